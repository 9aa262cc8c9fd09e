"""The sign-in lock-out is per account *and* address: a stranger who knows a staff member's e-mail
locks only their own address out, and the staff member still signs in from the ward's network.
Guessing across accounts from one address is slowed by a per-address rate limit."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from django.urls import reverse

from hiroba.core.models import AuditEntry
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

OUTSIDE = "203.0.113.7"  # somewhere on the internet
WARD = "10.20.30.40"  # the ward office's network


def _login(client, email, password=PASSWORD, *, address):
    return client.post(reverse("account_login"), {"login": email, "password": password}, REMOTE_ADDR=address)


def test_a_lock_out_from_one_address_leaves_the_account_open_from_another(client, make_staff):
    staff = make_staff()
    statuses = [_login(client, staff.user.email, "wrong-password-123", address=OUTSIDE).status_code
                for _ in range(settings.AXES_FAILURE_LIMIT)]
    assert statuses == [401] * (settings.AXES_FAILURE_LIMIT - 1) + [429]  # the last failure locks
    refused = _login(client, staff.user.email, address=OUTSIDE)  # even the right password, from there
    assert refused.status_code == 429
    assert "ログインを一時停止しています" in refused.content.decode()
    locked = AuditEntry.objects.filter(action="auth.locked_out")
    assert locked.count() == 2 and {e.ip_address for e in locked} == {OUTSIDE}
    assert locked.first().changes == {"login": staff.user.email, "ip": OUTSIDE}

    at_the_ward = Client()
    response = _login(at_the_ward, staff.user.email, address=WARD)
    assert response.status_code == 302 and response["Location"] == reverse("mfa_authenticate")
    response = at_the_ward.post(reverse("mfa_authenticate"), {"code": staff.code()}, REMOTE_ADDR=WARD)
    assert response.status_code == 302 and response["Location"] == reverse("staff:home")
    # Signing in at the ward clears the ward's own record only: the outside address stays locked.
    assert _login(client, staff.user.email, address=OUTSIDE).status_code == 429


def test_failures_from_other_addresses_do_not_add_up_to_a_lock_out(client, make_staff):
    staff = make_staff()
    for i in range(settings.AXES_FAILURE_LIMIT * 2):
        _login(client, staff.user.email, "wrong-password-123", address=f"198.51.100.{i + 1}")
    assert AccessAttempt.objects.filter(username=staff.user.email).count() == settings.AXES_FAILURE_LIMIT * 2
    response = _login(client, staff.user.email, address=WARD)
    assert response.status_code == 302 and response["Location"] == reverse("mfa_authenticate")


def test_one_address_guessing_across_accounts_is_slowed(client, make_staff):
    staff = make_staff()
    per_minute = int(settings.ACCOUNT_RATE_LIMITS["login_failed"].split(",")[0].split("/")[0])
    for i in range(per_minute):  # one try per account: no account reaches its lock-out
        assert _login(client, f"guess{i}@example.jp", "wrong-password-123", address=OUTSIDE).status_code == 401
    refused = _login(client, staff.user.email, address=OUTSIDE)  # the right password, but from there
    assert refused.status_code == 401
    assert "ログイン失敗が連続しています" in refused.content.decode()
    assert not AccessAttempt.objects.filter(username=staff.user.email).exists()
    response = _login(Client(), staff.user.email, address=WARD)
    assert response.status_code == 302


def test_the_per_address_limits_name_no_account():
    """A per-account limit independent of the address would let anyone lock anyone out again."""
    rates = settings.ACCOUNT_RATE_LIMITS["login_failed"].split(",")
    assert rates and all(rate.endswith("/ip") for rate in rates)
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]


def test_the_address_behind_a_reverse_proxy_is_the_forwarded_one(client, make_staff, settings):
    settings.HIROBA_PROXY_COUNT = 1
    staff = make_staff()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("account_login"), {"login": staff.user.email, "password": "wrong-password-123"},
                    REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=f"192.0.2.1, {OUTSIDE}")
    attempt = AccessAttempt.objects.get(username=staff.user.email)
    assert attempt.ip_address == OUTSIDE
    assert AuditEntry.objects.filter(action="auth.login_failed", ip_address=OUTSIDE).count() == settings.AXES_FAILURE_LIMIT
    response = client.post(reverse("account_login"), {"login": staff.user.email, "password": PASSWORD},
                           REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=WARD)
    assert response.status_code == 302


def test_a_malformed_per_address_rate_is_refused_at_start(tmp_path):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("HIROBA_")}
    env.update(HIROBA_DATA_DIR=str(tmp_path), HIROBA_LOGIN_FAILURES_PER_ADDRESS="30/m/ip")
    result = subprocess.run([sys.executable, "-c", "import hiroba.settings"], env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode != 0 and "HIROBA_LOGIN_FAILURES_PER_ADDRESS" in result.stderr
