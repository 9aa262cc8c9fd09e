"""Wrong second factors are treated like wrong passwords: each one is in the audit log, and they
count towards the same lock-out (per account and address)."""

from __future__ import annotations

import time

import pyotp
import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from django.urls import reverse

from hiroba.core.audit import AuditAction
from hiroba.core.models import AuditEntry
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

OUTSIDE = "203.0.113.7"
WARD = "10.20.30.40"


def _password(client, staff, address=OUTSIDE, password=PASSWORD):
    return client.post(reverse("account_login"), {"login": staff.user.email, "password": password},
                       REMOTE_ADDR=address)


def _code(client, code, address=OUTSIDE):
    return client.post(reverse("mfa_authenticate"), {"code": code}, REMOTE_ADDR=address)


def _wrong(staff) -> str:
    right = pyotp.TOTP(staff.totp_secret).now()
    return "000000" if right != "000000" else "111111"


def test_a_wrong_totp_code_is_in_the_audit_log(client, make_staff):
    staff = make_staff()
    assert _password(client, staff).status_code == 302
    assert _code(client, _wrong(staff)).status_code == 401
    entry = AuditEntry.objects.get(action=AuditAction.MFA_FAILED)
    assert (entry.actor_id, entry.object_type, entry.object_id) == (None, "accounts.user", str(staff.user.pk))
    assert entry.changes == {"login": staff.user.email, "type": "totp", "reauthentication": False}
    assert entry.ip_address == OUTSIDE
    assert "000000" not in str(entry.changes) and "111111" not in str(entry.changes)


def test_wrong_codes_lock_the_account_out_for_that_address(client, make_staff):
    staff = make_staff()
    assert _password(client, staff).status_code == 302
    statuses = [_code(client, _wrong(staff)).status_code for _ in range(settings.AXES_FAILURE_LIMIT)]
    assert statuses == [401] * (settings.AXES_FAILURE_LIMIT - 1) + [429]  # the last one locks
    assert AuditEntry.objects.filter(action=AuditAction.MFA_FAILED).count() == settings.AXES_FAILURE_LIMIT
    assert AuditEntry.objects.filter(action=AuditAction.LOCKED_OUT).exists()
    assert AccessAttempt.objects.get(username=staff.user.email, ip_address=OUTSIDE).failures_since_start == 5
    # The pending sign-in is gone: even the right code no longer completes it ...
    response = _code(client, staff.code())
    assert response.status_code == 302 and response["Location"] == reverse("account_login")
    assert client.get(reverse("staff:home")).status_code == 401
    # ... and a new sign-in from that address is refused at the password.
    assert _password(client, staff).status_code == 429
    # From the ward's network the account works as usual.
    at_the_ward = Client()
    assert _password(at_the_ward, staff, address=WARD).status_code == 302
    response = _code(at_the_ward, staff.code(), address=WARD)
    assert response.status_code == 302 and response["Location"] == reverse("staff:home")


def test_a_sign_in_opened_before_the_lock_out_gets_no_code_checked_after_it(client, make_staff):
    staff = make_staff()
    assert _password(client, staff).status_code == 302  # the password step passed ...
    for _ in range(settings.AXES_FAILURE_LIMIT):  # ... then this address is locked out for the account
        _password(Client(), staff, password="wrong-password-123")
    response = _code(client, staff.code())  # even the right code
    assert response.status_code == 429 and "ログインを一時停止しています" in response.content.decode()
    assert AuditEntry.objects.filter(action=AuditAction.LOCKED_OUT, changes__stage="mfa").exists()
    assert not AuditEntry.objects.filter(action=AuditAction.LOGIN).exists()
    response = _code(client, staff.code())
    assert response.status_code == 302 and response["Location"] == reverse("account_login")
    assert client.get(reverse("staff:home")).status_code == 401


def test_wrong_passwords_and_wrong_codes_add_up(client, make_staff):
    staff = make_staff()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _password(Client(), staff, password="wrong-password-123").status_code == 401
    assert _password(client, staff).status_code == 302
    assert _code(client, _wrong(staff)).status_code == 429
    assert _password(Client(), staff).status_code == 429


def test_a_right_code_after_a_wrong_one_signs_in_and_clears_the_count(client, make_staff):
    staff = make_staff()
    assert _password(client, staff).status_code == 302
    assert _code(client, _wrong(staff)).status_code == 401
    response = _code(client, staff.code())
    assert response.status_code == 302 and response["Location"] == reverse("staff:home")
    assert not AccessAttempt.objects.filter(username=staff.user.email, ip_address=OUTSIDE).exists()


def test_the_code_of_the_step_just_ended_is_accepted_once_and_an_older_one_never(client, make_staff):
    """A clerk who types the code as its 30 seconds turn over is not refused (RFC 6238 §5.2, one step
    of tolerance); a code two steps old is; and the accepted one cannot be used a second time."""
    staff = make_staff()
    totp = pyotp.TOTP(staff.totp_secret)
    now = time.time()
    window = {totp.at(now + step * totp.interval) for step in (-1, 0, 1)}
    # two or more steps old, and not by chance equal to a code still valid
    stale = next(code for step in range(2, 12) if (code := totp.at(now - step * totp.interval)) not in window)
    assert _password(client, staff).status_code == 302
    assert _code(client, stale).status_code == 401
    just_ended = totp.at(now - totp.interval)
    response = _code(client, just_ended)
    assert response.status_code == 302 and response["Location"] == reverse("staff:home")

    again = Client()
    assert _password(again, staff).status_code == 302
    assert _code(again, just_ended).status_code == 401  # the replay guard covers the whole window
