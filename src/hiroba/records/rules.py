"""Who may do what in the records module (django-rules).

The object of a check carries `department_id` (a register row's, a hold's or a disposition's
through its file, a scan's). See `hiroba.records.access` for the records manager's office.
"""

from __future__ import annotations

from typing import Any

import rules

from hiroba.accounts.models import Role
from hiroba.accounts.rules import is_staff_member, role_on_department
from hiroba.records import access


def records_role(minimum: Role) -> Any:
    """The user holds `minimum` on the object's department, or on the records office."""

    @rules.predicate(name=f"records_role_{minimum.name.lower()}")
    def predicate(user: Any, obj: Any = None) -> bool:
        if obj is None:
            return access.OFFICE.is_office(user, minimum) or bool(access.OFFICE.department_ids(user, minimum))
        return access.OFFICE.has_role(user, getattr(obj, "department_id", None), minimum)

    return predicate


def office(minimum: Role) -> Any:
    @rules.predicate(name=f"records_office_{minimum.name.lower()}")
    def predicate(user: Any) -> bool:
        return access.OFFICE.is_office(user, minimum)

    return predicate


staff = is_staff_member
rules.add_perm("records.view_record", staff & records_role(Role.READ))
rules.add_perm("records.change_file", staff & records_role(Role.HANDLE))
rules.add_perm("records.request_disposition", staff & records_role(Role.HANDLE))
rules.add_perm("records.place_hold", staff & records_role(Role.APPROVE))
rules.add_perm("records.approve_disposition", staff & office(Role.APPROVE))
rules.add_perm("records.manage_guideline", staff & office(Role.HANDLE))
rules.add_perm("records.run_scan", staff & records_role(Role.HANDLE))
# Segment transfer: a department's clerk asks, its supervisor (承認 on that department) approves.
rules.add_perm("records.request_transfer", staff & records_role(Role.HANDLE))
rules.add_perm("records.approve_transfer", staff & role_on_department(Role.APPROVE))
