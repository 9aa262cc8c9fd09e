"""The records manager's office (文書主管課) and who sees what in the register.

Least privilege as in the security register (`hiroba.security.access`): a department sees its
own register rows, dispositions and scans (a role on a department covers the departments below
it). A role held on the department named by ``RECORDS_OFFICE_DEPARTMENT`` counts, for records,
as that role on every department: that is the records manager. System administrators hold every
role anyway.
"""

from __future__ import annotations

from typing import Any

from hiroba.accounts import permissions
from hiroba.accounts.models import Role
from hiroba.core.models import Department
from hiroba.records import conf

_CACHE_ATTR = "_hiroba_records_office_role"


def office_department() -> Department | None:
    return Department.objects.filter(code=conf.get("RECORDS_OFFICE_DEPARTMENT")).first()


def office_role(user: Any) -> int:
    """The role the user holds on the records office (0 when none), cached on the user object."""
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
    """Departments whose records the user may see (None: every department)."""
    if is_office(user, minimum):
        return None
    return permissions.department_ids(user, minimum)


def has_role(user: Any, department_id: int | None, minimum: Role) -> bool:
    return is_office(user, minimum) or permissions.has_role(user, department_id, minimum)


def scope(qs: Any, user: Any, minimum: Role = Role.READ, field: str = "department_id") -> Any:
    """`qs` limited to the departments the user may see."""
    ids = department_ids(user, minimum)
    return qs if ids is None else qs.filter(**{f"{field}__in": ids})


def forget(user: Any) -> None:
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)
    permissions.forget(user)
