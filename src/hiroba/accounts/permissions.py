"""Who may do what where: the one place staff roles are resolved.

A role held in a department applies to that department and every department below it.
A system administrator (システム管理者) may act in every department.
Domain apps build their `rules.py` predicates from these functions; views never test roles
themselves.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from hiroba.accounts.models import Role, StaffMembership
from hiroba.core.models import Department

_CACHE_ATTR = "_hiroba_role_cache"


def _roles_by_department(user: Any) -> dict[int, int]:
    """{department id: highest current role}, expanded to descendant departments, cached per user object."""
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    roles: dict[int, int] = {}
    if getattr(user, "is_authenticated", False) and getattr(user, "is_staff_member", False):
        today = timezone.localdate()
        memberships = StaffMembership.objects.filter(user=user, starts_on__lte=today).exclude(
            ends_on__lt=today
        ).select_related("department")
        children: dict[int | None, list[int]] = {}
        for dept_id, parent_id in Department.objects.filter(is_active=True).values_list("id", "parent_id"):
            children.setdefault(parent_id, []).append(dept_id)
        for membership in memberships:
            stack = [membership.department_id]
            while stack:
                dept = stack.pop()
                if roles.get(dept, 0) < membership.role:
                    roles[dept] = membership.role
                stack.extend(children.get(dept, []))
    setattr(user, _CACHE_ATTR, roles)
    return roles


def is_system_admin(user: Any) -> bool:
    if not (getattr(user, "is_authenticated", False) and getattr(user, "is_staff_member", False)):
        return False
    return any(role >= Role.ADMIN for role in _roles_by_department(user).values()) or bool(user.is_superuser)


def has_role(user: Any, department_id: int | None, minimum: Role) -> bool:
    """True when `user` holds at least `minimum` in the department (or is a system admin)."""
    if is_system_admin(user):
        return True
    if department_id is None:
        return False
    return _roles_by_department(user).get(department_id, 0) >= minimum


def department_ids(user: Any, minimum: Role = Role.READ) -> set[int] | None:
    """Departments where the user holds at least `minimum`; None means every department."""
    if is_system_admin(user):
        return None
    return {dept for dept, role in _roles_by_department(user).items() if role >= minimum}


def departments_visible_to(user: Any) -> QuerySet[Department]:
    """The departments `user` may see (at least READ there, or every one for a system administrator)."""
    ids = department_ids(user, Role.READ)
    qs = Department.objects.select_related("parent")
    return qs if ids is None else qs.filter(id__in=ids)


def forget(user: Any) -> None:
    """Drop the cached roles (after a membership changes)."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)
