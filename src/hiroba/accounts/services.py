"""Writes about accounts: staff creation, roles, departures. Each is audited."""

from __future__ import annotations

from datetime import date
from typing import Any

from allauth.account.models import EmailAddress
from django.db import transaction
from django.utils import timezone

from hiroba.accounts import permissions
from hiroba.accounts.models import Role, StaffMembership, User
from hiroba.core import audit
from hiroba.core.models import Department


@transaction.atomic
def staff_create(
    *, actor: Any, email: str, display_name: str, password: str | None = None,
    staff_number: str = "", department: Department | None = None, role: Role = Role.READ,
) -> User:
    """Create a staff account (MFA is enrolled by the person at first sign-in)."""
    user = User.objects.create_user(
        email=email, password=password, kind=User.Kind.STAFF,
        display_name=display_name, staff_number=staff_number,
    )
    if password is None:
        user.set_unusable_password()
        user.save(update_fields=["password", "password_changed_at"])
    # The ward assigns staff addresses itself: they count as verified.
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    audit.record(actor=actor, action="accounts.staff_create", obj=user,
                 changes=audit.diff({}, audit.snapshot(user, ["email", "display_name", "staff_number", "kind"])))
    if department is not None:
        membership_grant(actor=actor, user=user, department=department, role=role)
    return user


@transaction.atomic
def membership_grant(*, actor: Any, user: User, department: Department, role: Role,
                     starts_on: date | None = None) -> StaffMembership:
    """Give (or change) a staff member's role in a department."""
    if not user.kind == User.Kind.STAFF:
        raise ValueError("区民等のアカウントに職員の役割は付与できません")
    membership, created = StaffMembership.objects.get_or_create(
        user=user, department=department,
        defaults={"role": role, "starts_on": starts_on or timezone.localdate()},
    )
    before = {} if created else {"role": membership.role, "ends_on": membership.ends_on}
    if not created:
        membership.role = role
        membership.ends_on = None
        membership.save(update_fields=["role", "ends_on"])
    user.is_staff = bool(role >= Role.ADMIN) or user.is_staff
    user.save(update_fields=["is_staff"])
    audit.record(actor=actor, action="accounts.membership_grant", obj=membership,
                 changes=audit.diff(before, {"role": membership.role, "ends_on": membership.ends_on,
                                             "department": department.code}))
    permissions.forget(user)
    return membership


@transaction.atomic
def staff_depart(*, actor: Any, user: User, on: date, reason: str) -> User:
    """Record a departure: the account is disabled and every role ends on that day."""
    before = audit.snapshot(user, ["is_active", "departed_on", "is_staff"])
    user.departed_on = on
    if on <= timezone.localdate():
        user.is_active = False
        user.is_staff = False
    user.save(update_fields=["departed_on", "is_active", "is_staff"])
    ended = StaffMembership.objects.filter(user=user, ends_on__isnull=True).update(ends_on=on)
    changes: dict[str, Any] = dict(audit.diff(before, audit.snapshot(user, ["is_active", "departed_on", "is_staff"])))
    changes["reason"] = reason
    changes["memberships_ended"] = ended
    audit.record(actor=actor, action="accounts.staff_depart", obj=user, changes=changes)
    permissions.forget(user)
    return user
