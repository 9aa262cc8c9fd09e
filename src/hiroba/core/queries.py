"""Reads shared across hiroba: departments a user may see, audit entries."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from hiroba.accounts import permissions
from hiroba.accounts.models import Role
from hiroba.core.models import AuditEntry, Department


def departments_visible_to(user: Any) -> QuerySet[Department]:
    ids = permissions.department_ids(user, Role.READ)
    qs = Department.objects.select_related("parent")
    return qs if ids is None else qs.filter(id__in=ids)


def search_audit_entries(*, action: str = "", actor: str = "") -> QuerySet[AuditEntry]:
    """Newest first; `action` matches a prefix (e.g. "auth."), `actor` part of the label."""
    qs = AuditEntry.objects.order_by("-seq")
    if action:
        qs = qs.filter(action__startswith=action)
    if actor:
        qs = qs.filter(actor_label__icontains=actor)
    return qs
