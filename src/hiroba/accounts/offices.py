"""Offices whose role reaches every department, for one module's records.

Some modules have an office that sees every department's records: the CISO office
(情報システム課) for the security register, the records manager (文書主管課) for the records
register. The office is one department named by a setting (its code); a role held on it counts,
for that module's records, as that role on every department. It is a role on one department, not
a separate permission, so granting and reviewing it is the ordinary membership work (it shows in
`hiroba accounts review`). System administrators hold every role anyway.

A module declares its office once::

    OFFICE = Office("SECURITY_OFFICE_DEPARTMENT", conf.get)

and asks it `role`, `is_office`, `department_ids`, `has_role` and `scope`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.db.models import Model, QuerySet

from hiroba.accounts import permissions
from hiroba.accounts.models import Role
from hiroba.core.models import Department

_M = TypeVar("_M", bound=Model)

# Highest first: the role the user holds on the office is the first one found.
_ROLES = (Role.ADMIN, Role.APPROVE, Role.HANDLE, Role.READ)


class Office:
    """The office named by the setting `setting`, read through `read(setting)` when used."""

    def __init__(self, setting: str, read: Callable[[str], Any]) -> None:
        self.setting = setting
        self._read = read
        self._cache_attr = f"_hiroba_office_role_{setting.lower()}"

    def department(self) -> Department | None:
        return Department.objects.filter(code=self._read(self.setting)).first()

    def role(self, user: Any) -> int:
        """The role the user holds on the office (0 when none), cached on the user object."""
        cached: int | None = getattr(user, self._cache_attr, None)
        if cached is not None:
            return cached
        role = 0
        if getattr(user, "is_authenticated", False) and getattr(user, "is_staff_member", False):
            if permissions.is_system_admin(user):
                role = int(Role.ADMIN)
            else:
                office = self.department()
                if office is not None:
                    role = next((int(r) for r in _ROLES if permissions.has_role(user, office.pk, r)), 0)
        setattr(user, self._cache_attr, role)
        return role

    def is_office(self, user: Any, minimum: Role = Role.READ) -> bool:
        return self.role(user) >= minimum

    def department_ids(self, user: Any, minimum: Role = Role.READ) -> set[int] | None:
        """Departments whose records the user may see (None: every department)."""
        if self.is_office(user, minimum):
            return None
        return permissions.department_ids(user, minimum)

    def has_role(self, user: Any, department_id: int | None, minimum: Role) -> bool:
        return self.is_office(user, minimum) or permissions.has_role(user, department_id, minimum)

    def scope(self, qs: QuerySet[_M], user: Any, minimum: Role = Role.READ,
              field: str = "department_id") -> QuerySet[_M]:
        """`qs` limited to the departments the user may see."""
        ids = self.department_ids(user, minimum)
        return qs if ids is None else qs.filter(**{f"{field}__in": ids})

    def forget(self, user: Any) -> None:
        """Drop the cached office role and the user's cached roles (after a membership change)."""
        if hasattr(user, self._cache_attr):
            delattr(user, self._cache_attr)
        permissions.forget(user)
