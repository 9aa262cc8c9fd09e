"""Who may do what with consultations (django-rules predicates)."""

from __future__ import annotations

from typing import Any

import rules

from hiroba.accounts import permissions
from hiroba.accounts.models import Role
from hiroba.accounts.rules import is_staff_member, role_on_department


@rules.predicate
def routed_to_user(user: Any, obj: Any) -> bool:
    """A routing (担当部署への共有) addressed to a department where the user handles work."""
    return obj is not None and permissions.has_role(user, obj.department_id, Role.HANDLE)


@rules.predicate
def can_handle_somewhere(user: Any) -> bool:
    ids = permissions.department_ids(user, Role.HANDLE)
    return ids is None or bool(ids)


rules.add_perm("consultations.view_case", is_staff_member & role_on_department(Role.READ))
rules.add_perm("consultations.change_case", is_staff_member & role_on_department(Role.HANDLE))
rules.add_perm("consultations.approve_case", is_staff_member & role_on_department(Role.APPROVE))
rules.add_perm("consultations.add_case", is_staff_member & can_handle_somewhere)
rules.add_perm("consultations.respond_routing", is_staff_member & routed_to_user)
