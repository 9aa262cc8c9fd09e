from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from hiroba.accounts import permissions, services
from hiroba.accounts.models import Role, StaffMembership, User
from hiroba.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_staff_create_is_audited_and_grants_the_role(departments):
    user = services.staff_create(actor="admin", email="new@example.jp", display_name="新 職員",
                                 department=departments["care"], role=Role.HANDLE)
    assert user.kind == User.Kind.STAFF and not user.has_usable_password()
    assert StaffMembership.objects.get(user=user).role == Role.HANDLE
    actions = list(AuditEntry.objects.values_list("action", flat=True))
    assert actions == ["accounts.staff_create", "accounts.membership_grant"]
    grant = AuditEntry.objects.get(action="accounts.membership_grant")
    assert grant.changes["role"] == [None, Role.HANDLE]


def test_membership_grant_refuses_residents(departments, resident):
    with pytest.raises(ValueError):
        services.membership_grant(actor="admin", user=resident, department=departments["care"], role=Role.READ)
    assert not AuditEntry.objects.exists()


def test_staff_depart_disables_and_ends_roles(make_staff):
    staff = make_staff()
    today = timezone.localdate()
    services.staff_depart(actor="admin", user=staff.user, on=today, reason="異動")
    staff.user.refresh_from_db()
    assert not staff.user.is_active
    assert StaffMembership.objects.get(user=staff.user).ends_on == today
    entry = AuditEntry.objects.get(action="accounts.staff_depart")
    assert entry.changes["is_active"] == [True, False] and entry.changes["reason"] == "異動"


def test_roles_expand_to_sections_and_end_on_their_date(make_staff, departments):
    staff = make_staff(email="a@example.jp", department="policy", role=Role.APPROVE)
    assert permissions.has_role(staff.user, departments["digital"].pk, Role.APPROVE)
    assert not permissions.has_role(staff.user, departments["care"].pk, Role.READ)
    StaffMembership.objects.filter(user=staff.user).update(ends_on=timezone.localdate() - timedelta(days=1))
    permissions.forget(staff.user)
    assert not permissions.has_role(staff.user, departments["digital"].pk, Role.READ)


def test_residents_have_no_staff_roles(resident, departments):
    assert permissions.department_ids(resident) == set()
    assert not permissions.is_system_admin(resident)
