"""Signing in: password, then TOTP for staff; failures answered 401 and logged; lock-out."""

from __future__ import annotations

import pyotp
import pytest
from django.urls import reverse

from hiroba.core.models import AuditEntry
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _login(client, email, password=PASSWORD):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def test_staff_sign_in_asks_for_the_totp_code_then_opens_the_staff_area(client, make_staff):
    staff = make_staff()
    response = _login(client, staff.user.email)
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    response = client.post(reverse("mfa_authenticate"), {"code": staff.code()})
    assert response.status_code == 302
    assert response["Location"] == reverse("staff:home")
    assert client.get(reverse("staff:home")).status_code == 200
    assert AuditEntry.objects.filter(action="auth.login", actor_id=staff.user.pk).exists()


def test_a_wrong_password_is_401_with_a_japanese_message_and_logged(client, make_staff):
    staff = make_staff()
    response = _login(client, staff.user.email, "wrong-password-123")
    assert response.status_code == 401
    assert "入力されたメールアドレスもしくはパスワードが正しくありません" in response.content.decode()
    entry = AuditEntry.objects.get(action="auth.login_failed")
    assert entry.changes["login"] == staff.user.email


def test_a_wrong_totp_code_is_401_and_does_not_sign_in(client, make_staff):
    staff = make_staff()
    _login(client, staff.user.email)
    wrong = "000000" if staff.code() != "000000" else "111111"
    response = client.post(reverse("mfa_authenticate"), {"code": wrong})
    assert response.status_code == 401
    assert "コード" in response.content.decode()
    assert client.get(reverse("staff:home")).status_code == 401


def test_repeated_failures_lock_the_account_with_a_japanese_page(client, make_staff, settings):
    staff = make_staff()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, staff.user.email, "wrong-password-123")
    response = _login(client, staff.user.email)  # even the right password is refused now
    assert response.status_code == 429
    body = response.content.decode()
    assert "ログインを一時停止しています" in body and "30分間" in body
    assert response["Retry-After"] == "1800"
    assert AuditEntry.objects.filter(action="auth.locked_out").exists()


def test_a_resident_signs_in_without_totp(client, resident):
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=resident, email=resident.email, verified=True, primary=True)
    response = _login(client, resident.email)
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_recovery_codes_sign_a_staff_member_in(client, make_staff):
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    staff = make_staff()
    codes = RecoveryCodes.activate(staff.user).get_unused_codes()
    _login(client, staff.user.email)
    response = client.post(reverse("mfa_authenticate"), {"code": codes[0]})
    assert response.status_code == 302
    assert client.get(reverse("staff:home")).status_code == 200


def test_totp_codes_come_from_a_standard_authenticator(make_staff):
    staff = make_staff()
    assert len(pyotp.TOTP(staff.totp_secret).now()) == 6
