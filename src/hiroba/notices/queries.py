"""Read-side queries of the notice service (scoped to what the user may see)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from hiroba.accounts import permissions
from hiroba.accounts.models import Role
from hiroba.notices.models import Batch, Notice, NoticeType, PrintRun, Representative


def types_for(user: Any, minimum: Role = Role.READ) -> QuerySet[NoticeType]:
    ids = permissions.department_ids(user, minimum)
    qs = NoticeType.objects.filter(is_active=True).select_related("department")
    return qs if ids is None else qs.filter(department_id__in=ids)


def batches_for(user: Any) -> QuerySet[Batch]:
    return Batch.objects.filter(notice_type__in=types_for(user)).select_related("notice_type", "template",
                                                                                "approved_by")


def runs() -> QuerySet[PrintRun]:
    return PrintRun.objects.all()


def status_counts(batch: Batch) -> dict[str, int]:
    return dict(batch.notices.order_by().values("status").annotate(n=Count("pk")).values_list("status", "n"))


def notices_of(user: Any) -> QuerySet[Notice]:
    """A resident's own notices and those they may read as representative or guardian."""
    reps = Representative.objects.filter(user=user, revoked_at__isnull=True)
    shared = Q()
    for rep in reps.prefetch_related("types"):
        shared |= Q(recipient_id=rep.recipient_id, batch__notice_type__in=list(rep.types.all()))
    own = Q(recipient__user=user)
    return (Notice.objects.filter(own | shared if shared else own)
            .exclude(status="created").select_related("batch__notice_type", "recipient").order_by("-created_at"))
