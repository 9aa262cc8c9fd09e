"""The staff area's gate: 401 / 403 / MFA enrolment / 404 outside one's departments / expiry."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse

from hiroba.accounts.models import Role
from hiroba.core.models import AuditEntry
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_anonymous_gets_401_with_a_login_link(client):
    response = client.get("/staff/")
    assert response.status_code == 401
    body = response.content.decode()
    assert "ログインが必要です" in body and "/accounts/login/?next=%2Fstaff%2F" in body
    assert AuditEntry.objects.filter(action="access.denied", object_repr="/staff/").exists()


def test_a_resident_gets_403_and_the_attempt_is_logged(client, resident):
    client.force_login(resident)
    response = client.get("/staff/departments/")
    assert response.status_code == 403
    assert "職員専用のページです" in response.content.decode()
    entry = AuditEntry.objects.get(action="access.denied")
    assert entry.actor_id == resident.pk and entry.changes["status"] == 403


def test_staff_without_mfa_are_sent_to_enrol_totp(client, make_staff):
    staff = make_staff(mfa=False)
    client.post(reverse("account_login"), {"login": staff.user.email, "password": PASSWORD})
    response = client.get("/staff/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_activate_totp"))
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "svg" in page.content.decode().lower() or "data:image" in page.content.decode()


def test_staff_with_mfa_reach_the_staff_home(staff_client):
    response = staff_client.get("/staff/")
    assert response.status_code == 200
    assert "デジタル政策課" in response.content.decode()


def test_another_departments_page_is_404_and_logged(staff_client, departments):
    assert staff_client.get("/staff/departments/digital/").status_code == 200
    response = staff_client.get("/staff/departments/care/")
    assert response.status_code == 404
    assert "ページが見つかりません" in response.content.decode()
    assert AuditEntry.objects.filter(action="access.denied", object_repr="/staff/departments/care/").exists()


def test_a_role_in_a_parent_department_covers_its_sections(client, make_staff):
    staff = make_staff(email="bucho@example.jp", department="policy", role=Role.READ)
    client.force_login(staff.user)
    assert client.get("/staff/departments/digital/").status_code == 200
    assert client.get("/staff/departments/care/").status_code == 404


def test_admin_only_pages_are_403_for_other_staff(staff_client):
    assert staff_client.get(reverse("staff:account_review")).status_code == 403
    assert staff_client.get(reverse("staff:audit_log")).status_code == 403
    assert staff_client.get("/admin/").status_code in (302, 403)


def test_a_system_admin_sees_every_department_and_the_audit_log(client, make_staff):
    admin = make_staff(email="admin@example.jp", department="systems", role=Role.ADMIN)
    client.force_login(admin.user)
    assert client.get("/staff/departments/care/").status_code == 200
    response = client.get(reverse("staff:audit_log") + "?verify=1")
    assert response.status_code == 200 and "検証しました。改ざんはありません" in response.content.decode()


def test_staff_sessions_get_an_idle_expiry(staff_client, settings):
    staff_client.get("/staff/")
    assert staff_client.session.get_expiry_age() == settings.STAFF_SESSION_IDLE_SECONDS


def test_a_staff_session_past_its_absolute_limit_is_401(staff_client, settings):
    staff_client.get("/staff/")
    session = staff_client.session
    session["hiroba_login_at"] = int(time.time()) - settings.STAFF_SESSION_MAX_SECONDS - 5
    session.save()
    response = staff_client.get("/staff/")
    assert response.status_code == 401
    assert "セッションの有効期限が切れた" in response.content.decode()


def test_an_expired_session_cookie_is_401_not_an_error(client, db):
    client.cookies["sessionid"] = "expired-or-unknown-session"
    response = client.get("/staff/")
    assert response.status_code == 401
    assert "セッションの有効期限が切れた" in response.content.decode()


def test_first_enrolment_shows_recovery_codes_without_a_second_password(client, make_staff):
    staff = make_staff(mfa=False)
    client.post(reverse("account_login"), {"login": staff.user.email, "password": PASSWORD})
    page = client.get(reverse("mfa_activate_totp"))
    secret = page.context["form"].secret
    import pyotp

    response = client.post(reverse("mfa_activate_totp"), {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302
    codes = client.get(reverse("mfa_view_recovery_codes"))
    assert codes.status_code == 200
    assert client.get("/staff/").status_code == 200


def test_changing_mfa_later_still_asks_for_the_password(client, make_staff):
    staff = make_staff()  # enrolled before this sign-in
    client.post(reverse("account_login"), {"login": staff.user.email, "password": PASSWORD})
    client.post(reverse("mfa_authenticate"), {"code": staff.code()})
    response = client.get(reverse("mfa_deactivate_totp"))
    assert response.status_code == 302
    assert "/accounts/reauthenticate/" in response["Location"]


def test_the_audit_log_page_filters_and_shows_changes(client, make_staff):
    from hiroba.core import audit

    admin = make_staff(email="admin@example.jp", department="systems", role=Role.ADMIN)
    audit.record(actor=admin.user, action="thing.update", object_repr="案件A",
                 changes={"title": ["素案", "改定案"]})
    client.force_login(admin.user)
    body = client.get(reverse("staff:audit_log") + "?action=thing.").content.decode()
    rows = body.split("<tbody>", 1)[1]
    assert "件名: 素案 → 改定案" in rows
    assert "アクセスの拒否" not in rows
