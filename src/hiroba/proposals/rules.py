"""Who may do what with calls, proposals, reviews and voters (django-rules)."""

from __future__ import annotations

from typing import Any

import rules

from hiroba.accounts import permissions
from hiroba.accounts.models import Role
from hiroba.accounts.rules import is_staff_member


def _call_of(obj: Any) -> Any:
    return obj if obj._meta.model_name == "call" else obj.call


@rules.predicate
def _handle_on_call(user: Any, obj: Any) -> bool:
    return obj is not None and permissions.has_role(user, _call_of(obj).department_id, Role.HANDLE)


@rules.predicate
def _read_on_call(user: Any, obj: Any) -> bool:
    return obj is not None and permissions.has_role(user, _call_of(obj).department_id, Role.READ)


@rules.predicate
def _approve_on_call(user: Any, obj: Any) -> bool:
    return obj is not None and permissions.has_role(user, _call_of(obj).department_id, Role.APPROVE)


@rules.predicate
def is_reviewer_of_call(user: Any, obj: Any) -> bool:
    """A member of the call's screening panel: blind review, so never shown who proposed."""
    if obj is None:
        return False
    from hiroba.proposals.models import Reviewer

    return Reviewer.objects.filter(call_id=_call_of(obj).pk, user_id=user.pk).exists()


@rules.predicate
def owns_assignment(user: Any, assignment: Any) -> bool:
    return assignment is not None and assignment.reviewer.user_id == user.pk


@rules.predicate
def handles_anywhere(user: Any) -> bool:
    ids = permissions.department_ids(user, Role.HANDLE)
    return ids is None or bool(ids)


rules.add_perm("proposals.view_call", is_staff_member & (_read_on_call | is_reviewer_of_call))
rules.add_perm("proposals.manage_call", is_staff_member & _handle_on_call)
rules.add_perm("proposals.decide_call", is_staff_member & _approve_on_call)
rules.add_perm("proposals.create_call", is_staff_member & handles_anywhere)
# Blind screening: a reviewer of the call never sees who proposed, whatever role they hold.
rules.add_perm("proposals.view_proposer", is_staff_member & _read_on_call & ~is_reviewer_of_call)
rules.add_perm("proposals.review", is_staff_member & owns_assignment)
rules.add_perm("proposals.verify_voters", is_staff_member & handles_anywhere)
