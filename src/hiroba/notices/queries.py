"""Read-side queries of the notice service (scoped to what the user may see)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncMonth

from hiroba.accounts import permissions
from hiroba.accounts.models import Role
from hiroba.notices.models import (
    ON_PAPER,
    REACHED_DIGITALLY,
    Batch,
    Notice,
    NoticeType,
    PrintRun,
    Representative,
    Status,
)


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


@dataclass
class UptakeRow:
    type_name: str
    month: str  # YYYY-MM in JST
    total: int
    digital: int  # reached digitally (opened / acknowledged)
    paper: int  # on paper (to print, printed, posted, returned)
    pending: int  # still waiting to be opened

    @property
    def share(self) -> float:
        """Share reached digitally, in per cent (one decimal)."""
        return round(100 * self.digital / self.total, 1) if self.total else 0.0


@dataclass
class Uptake:
    rows: list[UptakeRow]
    price: int

    @property
    def digital(self) -> int:
        return sum(r.digital for r in self.rows)

    @property
    def paper(self) -> int:
        return sum(r.paper for r in self.rows)

    @property
    def total(self) -> int:
        return sum(r.total for r in self.rows)

    @property
    def saved(self) -> int:
        """Postage saved: every notice reached digitally is a letter not posted."""
        return self.digital * self.price

    @property
    def spent(self) -> int:
        return self.paper * self.price

    def by_month(self) -> list[tuple[str, int]]:
        months: dict[str, int] = {}
        for row in self.rows:
            months[row.month] = months.get(row.month, 0) + row.digital * self.price
        return sorted(months.items())


def uptake(user: Any) -> Uptake:
    """Uptake per notice type and month (of the batch's sending, JST) over the notices sent,
    and the postage saved at NOTICES_POSTAGE_YEN a letter."""
    from hiroba.notices import conf

    tokyo = ZoneInfo("Asia/Tokyo")
    counts = (Notice.objects.filter(batch__notice_type__in=types_for(user)).exclude(status=Status.CREATED)
              .annotate(month=TruncMonth("queued_at", tzinfo=tokyo), month_paper=TruncMonth("paper_at", tzinfo=tokyo))
              .values("batch__notice_type__name", "month", "month_paper", "status").annotate(n=Count("pk"))
              .order_by())
    table: dict[tuple[str, str], UptakeRow] = {}
    for entry in counts:
        when = entry["month"] or entry["month_paper"]
        month = when.strftime("%Y-%m") if when else "—"
        key = (entry["batch__notice_type__name"], month)
        row = table.setdefault(key, UptakeRow(key[0], month, 0, 0, 0, 0))
        row.total += entry["n"]
        if entry["status"] in REACHED_DIGITALLY:
            row.digital += entry["n"]
        elif entry["status"] in ON_PAPER:
            row.paper += entry["n"]
        else:
            row.pending += entry["n"]
    return Uptake(rows=sorted(table.values(), key=lambda r: (r.month, r.type_name)),
                  price=int(conf.get("NOTICES_POSTAGE_YEN")))
