"""Reads of the staff shell: departments a user may see, audit entries."""

from __future__ import annotations

from django.db.models import QuerySet

from hiroba.accounts.permissions import departments_visible_to
from hiroba.core.models import AuditEntry

__all__ = ["departments_visible_to", "search_audit_entries"]


def search_audit_entries(*, action: str = "", actor: str = "") -> QuerySet[AuditEntry]:
    """Newest first; `action` matches a prefix (e.g. "auth."), `actor` part of the label."""
    qs = AuditEntry.objects.order_by("-seq")
    if action:
        qs = qs.filter(action__startswith=action)
    if actor:
        qs = qs.filter(actor_label__icontains=actor)
    return qs
