"""The CISO office (情報システム課) and who sees what in the security register.

Least privilege as in the rest of hiroba: a department sees its own systems, findings,
incidents and actions (a role on a department covers the departments below it). The CISO
office sees all of them: a role held on the department named by ``SECURITY_OFFICE_DEPARTMENT``
(code ``joho-system``) counts, for security records, as that role on every department. It is
a role on one department, not a separate permission, so granting and reviewing it is the
ordinary membership work (and it shows in `hiroba accounts review`). System administrators
hold every role anyway.
"""

from __future__ import annotations

from typing import Any

from hiroba.accounts import permissions
from hiroba.accounts.models import Role
from hiroba.core.models import Department
from hiroba.security import conf

_CACHE_ATTR = "_hiroba_security_office_role"


def office_department() -> Department | None:
    return Department.objects.filter(code=conf.get("SECURITY_OFFICE_DEPARTMENT")).first()


def office_role(user: Any) -> int:
    """The role the user holds on the CISO office (0 when none), cached on the user object."""
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    role = 0
    if getattr(user, "is_authenticated", False) and getattr(user, "is_staff_member", False):
        if permissions.is_system_admin(user):
            role = int(Role.ADMIN)
        else:
            office = office_department()
            if office is not None:
                for minimum in (Role.ADMIN, Role.APPROVE, Role.HANDLE, Role.READ):
                    if permissions.has_role(user, office.pk, minimum):
                        role = int(minimum)
                        break
    setattr(user, _CACHE_ATTR, role)
    return role


def is_office(user: Any, minimum: Role = Role.READ) -> bool:
    return office_role(user) >= minimum


def department_ids(user: Any, minimum: Role = Role.READ) -> set[int] | None:
    """Departments whose security records the user may see (None: every department)."""
    if is_office(user, minimum):
        return None
    return permissions.department_ids(user, minimum)


def has_role(user: Any, department_id: int | None, minimum: Role) -> bool:
    return is_office(user, minimum) or permissions.has_role(user, department_id, minimum)


def forget(user: Any) -> None:
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)
    permissions.forget(user)
