"""Roles and departments changed in the Django admin (the memberships inline on a user's page)
land in the audit log row by row, with before/after values and the user they belong to."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from hiroba.accounts.models import Role, StaffMembership
from hiroba.core import audit
from hiroba.core.audit import AuditAction
from hiroba.core.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, make_staff):
    admin = make_staff(email="admin@example.jp", department="systems", role=Role.ADMIN, display_name="情報 花子",
                       is_staff=True)  # Django admin access (system administrators only)
    client.force_login(admin.user)
    client.admin = admin.user
    return client


@pytest.fixture
def clerk(make_staff):
    return make_staff(email="kaigo@example.jp", department="care", role=Role.HANDLE, display_name="介護 次郎").user


def _plain(value):
    if value is None:
        return None
    if isinstance(value, bool):
        return "on" if value else None
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _posted(response) -> dict[str, str]:
    """What the browser would post back unchanged: the change form and its inlines as shown."""
    data: dict[str, str] = {}

    def add(form):
        for name in form.fields:
            value = _plain(form[name].value())
            if value is not None:
                data[form.add_prefix(name)] = value

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        add(inline.formset.management_form)
        for form in inline.formset.forms:
            add(form)
    data["_save"] = "保存"
    return data


def _change_page(user) -> str:
    return reverse("admin:accounts_user_change", args=[user.pk])


def _row(data: dict[str, str], membership: StaffMembership) -> str:
    """The inline prefix (memberships-N) of the row showing `membership`."""
    return next(key.rsplit("-", 1)[0] for key, value in data.items()
                if key.startswith("memberships-") and key.endswith("-id") and value == str(membership.pk))


def test_making_a_clerk_a_system_administrator_is_recorded_with_before_and_after(admin_client, clerk):
    membership = clerk.memberships.get()
    data = _posted(admin_client.get(_change_page(clerk)))
    data[f"{_row(data, membership)}-role"] = str(Role.ADMIN)
    response = admin_client.post(_change_page(clerk), data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    membership.refresh_from_db()
    assert membership.role == Role.ADMIN
    entry = AuditEntry.objects.get(action=AuditAction.ADMIN_CHANGE, object_type="accounts.staffmembership")
    assert entry.object_id == str(membership.pk)
    assert entry.actor_id == admin_client.admin.pk
    assert entry.changes == {"role": [Role.HANDLE, Role.ADMIN], "parent": f"accounts.user:{clerk.pk}"}
    assert "介護 次郎" in entry.object_repr and "システム管理者" in entry.object_repr
    assert audit.verify_chain().ok


def test_granting_a_role_in_another_department_is_recorded(admin_client, clerk, departments):
    data = _posted(admin_client.get(_change_page(clerk)))
    n = int(data["memberships-TOTAL_FORMS"])
    data["memberships-TOTAL_FORMS"] = str(n + 1)
    data.update({f"memberships-{n}-user": str(clerk.pk), f"memberships-{n}-department": str(departments["digital"].pk),
                 f"memberships-{n}-role": str(Role.APPROVE), f"memberships-{n}-starts_on": "2025-04-01"})
    assert admin_client.post(_change_page(clerk), data).status_code == 302
    added = clerk.memberships.get(department=departments["digital"])
    entry = AuditEntry.objects.get(action=AuditAction.ADMIN_ADD, object_type="accounts.staffmembership")
    assert entry.object_id == str(added.pk)
    assert entry.changes["role"] == [None, Role.APPROVE]
    assert entry.changes["department_id"] == [None, departments["digital"].pk]
    assert entry.changes["user_id"] == [None, clerk.pk]
    assert entry.changes["parent"] == f"accounts.user:{clerk.pk}"


def test_removing_a_role_is_recorded_with_what_it_was(admin_client, clerk, departments):
    membership = clerk.memberships.get()
    data = _posted(admin_client.get(_change_page(clerk)))
    data[f"{_row(data, membership)}-DELETE"] = "on"
    assert admin_client.post(_change_page(clerk), data).status_code == 302
    assert not clerk.memberships.exists()
    entry = AuditEntry.objects.get(action=AuditAction.ADMIN_DELETE, object_type="accounts.staffmembership")
    assert entry.object_id == str(membership.pk)
    assert entry.changes["role"] == [Role.HANDLE, None]
    assert entry.changes["department_id"] == [departments["care"].pk, None]
    assert entry.changes["parent"] == f"accounts.user:{clerk.pk}"
    assert "介護 次郎" in entry.object_repr


def test_saving_the_page_unchanged_records_no_inline_change(admin_client, clerk):
    data = _posted(admin_client.get(_change_page(clerk)))
    assert admin_client.post(_change_page(clerk), data).status_code == 302
    assert not AuditEntry.objects.filter(object_type="accounts.staffmembership").exists()
