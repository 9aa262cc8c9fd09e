"""Permission predicates for accounts and departments (django-rules)."""

from __future__ import annotations

from typing import Any

import rules

from hiroba.accounts import permissions
from hiroba.accounts.models import Role


@rules.predicate
def is_staff_member(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_staff_member)


@rules.predicate
def is_system_admin(user: Any) -> bool:
    return permissions.is_system_admin(user)


def role_on_department(minimum: Role) -> Any:
    """Predicate: the user holds `minimum` on the object's department (obj.department_id, or obj itself)."""

    @rules.predicate(name=f"role_on_department_{minimum.name.lower()}")
    def predicate(user: Any, obj: Any) -> bool:
        if obj is None:
            return False
        department_id = getattr(obj, "department_id", None)
        if department_id is None and obj._meta.label_lower == "core.department":
            department_id = obj.pk
        return permissions.has_role(user, department_id, minimum)

    return predicate


rules.add_perm("core.view_department", is_staff_member & (is_system_admin | role_on_department(Role.READ)))
rules.add_perm("accounts.review_accounts", is_system_admin)
rules.add_perm("core.view_auditentry", is_system_admin)
rules.add_perm("core.use_admin", is_system_admin)  # the audited models of the Django admin (core.admin.ADMIN_RULE)
