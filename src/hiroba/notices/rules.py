"""Who may do what with notices (django-rules): roles on the notice type's department.

The object of a check is a department or carries `department_id` (a notice type's, a batch's
through its type);
print runs hold letters of every type, so handling them needs 担当 on some department that owns
a notice type (checked without an object)."""

from __future__ import annotations

from typing import Any

import rules

from hiroba.accounts import permissions
from hiroba.accounts.models import Role
from hiroba.accounts.rules import is_staff_member


def notices_role(minimum: Role) -> Any:
    @rules.predicate(name=f"notices_role_{minimum.name.lower()}")
    def predicate(user: Any, obj: Any) -> bool:
        from hiroba.core.models import Department

        if obj is None or not (isinstance(obj, Department) or hasattr(obj, "department_id")):  # a print run
            ids = permissions.department_ids(user, minimum)
            if ids is None:
                return True
            from hiroba.notices.models import NoticeType

            return NoticeType.objects.filter(department_id__in=ids).exists()
        department_id = obj.pk if isinstance(obj, Department) else getattr(obj, "department_id", None)
        return permissions.has_role(user, department_id, minimum)

    return predicate


rules.add_perm("notices.view", is_staff_member & notices_role(Role.READ))
rules.add_perm("notices.handle_batch", is_staff_member & notices_role(Role.HANDLE))
rules.add_perm("notices.approve_batch", is_staff_member & notices_role(Role.APPROVE))
rules.add_perm("notices.handle_print", is_staff_member & notices_role(Role.HANDLE))
rules.add_perm("notices.manage_types", is_staff_member & notices_role(Role.APPROVE))
rules.add_perm("notices.manage_recipients", is_staff_member & notices_role(Role.HANDLE))
