"""Who may do what with school calendars (django-rules).

The object of every check is the School (or anything with `department_id` pointing at the
school's department): a school's staff hold a role on its department, and a role on 教育委員会
事務局 covers every school below it.
"""

from __future__ import annotations

import rules

from hiroba.accounts.models import Role
from hiroba.accounts.rules import is_staff_member, role_on_department

rules.add_perm("calendars.view_school", is_staff_member & role_on_department(Role.READ))
rules.add_perm("calendars.change_school", is_staff_member & role_on_department(Role.HANDLE))
