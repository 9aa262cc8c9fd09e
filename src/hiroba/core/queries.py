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


def recent_audit_entries(limit: int = 100) -> QuerySet[AuditEntry]:
    return AuditEntry.objects.order_by("-seq")[:limit]
