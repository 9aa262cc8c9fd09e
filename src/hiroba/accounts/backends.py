"""System administrators (システム管理者) hold every model permission, for the Django admin.

They get them from their role, not from Django's per-user permission tables, so the account
review shows exactly who is privileged.
"""

from __future__ import annotations

from typing import Any

from hiroba.accounts.permissions import is_system_admin


class SystemAdminPermissionBackend:
    def authenticate(self, request: Any, **credentials: Any) -> None:
        return None

    def has_perm(self, user_obj: Any, perm: str, obj: Any = None) -> bool:
        return is_system_admin(user_obj)

    def has_module_perms(self, user_obj: Any, app_label: str) -> bool:
        return is_system_admin(user_obj)
