"""Who may do what with workshops (django-rules).

Applicant data (minors) needs a role of the user's own in the organising department; see
queries.applicant_department_ids.
"""

from __future__ import annotations

from typing import Any

import rules

from hiroba.accounts.models import Role
from hiroba.accounts.rules import is_staff_member, role_on_department
from hiroba.workshops import queries


def applicant_access(minimum: Role) -> Any:
    """Predicate on a Programme: the user's own role on its department reaches `minimum`."""

    @rules.predicate(name=f"workshops_applicant_access_{minimum.name.lower()}")
    def predicate(user: Any, programme: Any) -> bool:
        return programme is not None and queries.may_see_applicants(user, programme, minimum)

    return predicate


rules.add_perm("workshops.view_programme", is_staff_member & role_on_department(Role.READ))
rules.add_perm("workshops.change_programme", is_staff_member & role_on_department(Role.HANDLE))
rules.add_perm("workshops.view_applicants", is_staff_member & applicant_access(Role.READ))
rules.add_perm("workshops.handle_applicants", is_staff_member & applicant_access(Role.HANDLE))
rules.add_perm("workshops.run_selection", is_staff_member & applicant_access(Role.HANDLE))
rules.add_perm("workshops.record_attendance", is_staff_member & applicant_access(Role.HANDLE))
rules.add_perm("workshops.export_contacts", is_staff_member & applicant_access(Role.HANDLE))
rules.add_perm("workshops.submit_outputs", is_staff_member & role_on_department(Role.HANDLE))
