"""Every staff write lands in the audit log: services, allauth account changes, the admin,
and — as a backstop — any other staff POST."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse

from hiroba.accounts.models import Role
from hiroba.core.models import AuditEntry, Department
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.mark.urls("tests.core.urls_backstop")
def test_a_staff_write_outside_any_service_is_still_recorded(staff_client):
    response = staff_client.post("/staff/careless/")
    assert response.status_code == 200
    entry = AuditEntry.objects.get(action="http.write")
    assert entry.object_repr == "/staff/careless/"
    assert entry.actor_id == staff_client.staff.user.pk
    assert entry.changes == {"method": "POST", "status": 200}


@pytest.mark.urls("tests.core.urls_backstop")
def test_a_residents_post_is_not_a_staff_write(client, resident):
    client.force_login(resident)
    client.post("/staff/careless/")  # refused by the staff gate anyway
    assert not AuditEntry.objects.filter(action="http.write").exists()


def test_a_language_switch_is_not_recorded(staff_client):
    staff_client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert not AuditEntry.objects.filter(action="http.write").exists()


def test_a_password_change_is_recorded(client, make_staff):
    staff = make_staff()
    client.post(reverse("account_login"), {"login": staff.user.email, "password": PASSWORD})
    client.post(reverse("mfa_authenticate"), {"code": staff.code()})
    response = client.post(reverse("account_change_password"), {
        "oldpassword": PASSWORD, "password1": "New-Sakura-Namiki-77", "password2": "New-Sakura-Namiki-77",
    })
    assert response.status_code == 302
    assert AuditEntry.objects.filter(action="account.password_changed", actor_id=staff.user.pk).exists()


def _admin_client(client, make_staff):
    admin = make_staff(email="admin@example.jp", department="systems", role=Role.ADMIN)
    admin.user.is_staff = True
    admin.user.save()
    client.force_login(admin.user)
    return admin


def test_an_admin_edit_records_before_and_after(client, make_staff, departments):
    _admin_client(client, make_staff)
    dept = departments["care"]
    url = reverse("admin:core_department_change", args=[dept.pk])
    response = client.post(url, {"code": "care", "name": "高齢者支援課", "name_en": "", "parent": departments["welfare"].pk,
                                 "is_active": "on", "sort_order": 0})
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = AuditEntry.objects.get(action="admin.change")
    assert entry.changes["name"] == ["高齢介護課", "高齢者支援課"]


def test_an_admin_edit_of_a_library_model_is_recorded(client, make_staff):
    admin = _admin_client(client, make_staff)
    address = EmailAddress.objects.get(user=admin.user)
    url = reverse("admin:account_emailaddress_change", args=[address.pk])
    response = client.post(url, {"user": admin.user.pk, "email": address.email, "verified": "on", "primary": ""})
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="admin.change", object_type="account.emailaddress")
    assert entry.actor_id == admin.user.pk


def test_the_admin_is_closed_to_staff_who_are_not_system_admins(staff_client):
    staff_client.staff.user.is_staff = True  # even with Django's flag set by mistake
    staff_client.staff.user.save()
    response = staff_client.get(reverse("admin:core_department_changelist"))
    assert response.status_code == 403
    assert not Department.objects.filter(code="x").exists()
