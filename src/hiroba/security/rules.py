"""Who may do what in the security register (django-rules).

The object of a check carries `department_id` (a system's, a finding's through its system, an
incident's, a corrective action's). See `hiroba.security.access` for the CISO office.
"""

from __future__ import annotations

from typing import Any

import rules

from hiroba.accounts.models import Role
from hiroba.accounts.rules import is_staff_member
from hiroba.security import access


def security_role(minimum: Role) -> Any:
    """The user holds `minimum` on the object's department, or on the CISO office."""

    @rules.predicate(name=f"security_role_{minimum.name.lower()}")
    def predicate(user: Any, obj: Any) -> bool:
        if obj is None:
            return access.OFFICE.is_office(user, minimum)
        return access.OFFICE.has_role(user, getattr(obj, "department_id", None), minimum)

    return predicate


def department_role(minimum: Role) -> Any:
    """The user holds `minimum` on the object's own department (the office does not count)."""

    @rules.predicate(name=f"security_department_role_{minimum.name.lower()}")
    def predicate(user: Any, obj: Any) -> bool:
        from hiroba.accounts import permissions

        return obj is not None and permissions.has_role(user, getattr(obj, "department_id", None), minimum)

    return predicate


def office(minimum: Role) -> Any:
    @rules.predicate(name=f"security_office_{minimum.name.lower()}")
    def predicate(user: Any) -> bool:
        return access.OFFICE.is_office(user, minimum)

    return predicate


@rules.predicate
def is_audit_lead(user: Any, action: Any) -> bool:
    audit = getattr(getattr(action, "evaluation", None), "audit", None)
    return bool(audit is not None and audit.lead_id and audit.lead_id == getattr(user, "pk", None))


staff = is_staff_member
rules.add_perm("security.view_record", staff & security_role(Role.READ))
rules.add_perm("security.change_finding", staff & security_role(Role.HANDLE))
rules.add_perm("security.import_round", staff & security_role(Role.HANDLE))
rules.add_perm("security.verify_finding", staff & office(Role.HANDLE))
rules.add_perm("security.decide_finding", staff & (office(Role.HANDLE) | department_role(Role.APPROVE)))
rules.add_perm("security.request_risk", staff & security_role(Role.HANDLE))
rules.add_perm("security.approve_risk", staff & department_role(Role.APPROVE))
rules.add_perm("security.manage_register", staff & office(Role.HANDLE))
rules.add_perm("security.view_dashboard", staff & office(Role.READ))
rules.add_perm("security.change_action", staff & security_role(Role.HANDLE))
rules.add_perm("security.close_action", staff & (is_audit_lead | office(Role.APPROVE)))
rules.add_perm("security.change_incident", staff & security_role(Role.HANDLE))
rules.add_perm("security.close_incident", staff & office(Role.APPROVE))
