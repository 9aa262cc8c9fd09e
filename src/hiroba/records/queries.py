"""Read-only queries of the records pages."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone, translation

from hiroba.core.dates import fiscal_year_label
from hiroba.records.models import Disposition, RecordFile, Scan, ScanFinding


def fiscal_label(fiscal_year: int) -> str:
    """令和6年度 in Japanese, "FY2024 (Reiwa 6)" in English."""
    if (translation.get_language() or "ja").startswith("ja"):
        return fiscal_year_label(fiscal_year)
    return f"FY{fiscal_year}"


def this_fiscal_year() -> int:
    today = timezone.localdate()
    return today.year if today.month >= 4 else today.year - 1


def search(qs: QuerySet[RecordFile], data: dict[str, Any]) -> QuerySet[RecordFile]:
    """The register filtered by keyword (名称・分類・保存場所), department, year and 大分類."""
    q = (data.get("q") or "").strip()
    for word in q.split()[:5]:
        qs = qs.filter(Q(name__icontains=word) | Q(large__icontains=word) | Q(medium__icontains=word)
                       | Q(small__icontains=word) | Q(note__icontains=word))
    return filtered(qs, data)


def filtered(qs: QuerySet[Any], data: dict[str, Any]) -> QuerySet[Any]:
    """The search forms' filters: department, fiscal year, 大分類 (the register and the documents)."""
    if data.get("department"):
        qs = qs.filter(department_id=data["department"])
    if data.get("year"):
        qs = qs.filter(fiscal_year=data["year"])
    if data.get("large"):
        qs = qs.filter(large=data["large"])
    return qs


def years(qs: QuerySet[RecordFile]) -> list[tuple[int, str]]:
    return [(y, fiscal_label(y)) for y in
            qs.order_by("-fiscal_year").values_list("fiscal_year", flat=True).distinct()]


def public_files() -> QuerySet[RecordFile]:
    return RecordFile.objects.filter(is_public=True).select_related("department")


def pending(qs: QuerySet[Disposition] | None = None) -> QuerySet[Disposition]:
    qs = Disposition.objects.all() if qs is None else qs
    return qs.filter(state=Disposition.State.REQUESTED).select_related("file", "file__department", "requested_by")


def is_latest(scan: Scan) -> bool:
    return Scan.objects.filter(root=scan.root).order_by("-started_at", "-id").values_list("id", flat=True
                                                                                         ).first() == scan.pk


def finding_counts(scan: Scan) -> dict[str, int]:
    qs = ScanFinding.objects.filter(root=scan.root) if is_latest(scan) else ScanFinding.objects.none()
    return dict(qs.order_by().values_list("kind").annotate(n=Count("id")).values_list("kind", "n"))


def findings(scan: Scan, kind: str | None) -> QuerySet[ScanFinding]:
    """The root's current findings (what the latest scan of the root found); none for an older scan."""
    qs = ScanFinding.objects.filter(root=scan.root) if is_latest(scan) else ScanFinding.objects.none()
    return qs.filter(kind=kind) if kind else qs
