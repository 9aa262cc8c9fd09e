"""Who may do what with surveys: the owning department reads (READ) and runs them (HANDLE)."""

from __future__ import annotations

import rules

from hiroba.accounts.models import Role
from hiroba.accounts.rules import is_staff_member, role_on_department

rules.add_perm("surveys.view_survey", is_staff_member & role_on_department(Role.READ))
rules.add_perm("surveys.change_survey", is_staff_member & role_on_department(Role.HANDLE))
