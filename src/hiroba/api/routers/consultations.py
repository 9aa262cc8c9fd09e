"""意見募集（パブリックコメント）: the cases residents can see, and the published results.

Results come only from the stored, approved publication (PublishedResult): the very record the
results page and every download are rendered from, so the rows, masking and counts are those
of the CSV."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.http import http_date
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema

from hiroba.api.base import ERRORS, License, SharedThrottle, licensed, page
from hiroba.api.schemas import PageQuery
from hiroba.consultations import exports, queries
from hiroba.consultations.models import Case
from hiroba.core.models import Department

router = Router(tags=["意見募集（パブリックコメント）"], throttle=SharedThrottle("api.public"))


def case_id(slug: str) -> str:
    return f"consultations/case/{slug}"


class SectionOut(Schema):
    id: str
    number: str
    heading: str
    body: str
    page: int | None


class CaseOut(Schema):
    id: str
    slug: str
    title: str
    municipality: str
    department: str
    summary: str
    status: str
    period_start: date
    period_end: date
    last_day: date
    results_due_on: date | None
    channels: list[str]
    has_results: bool
    url: str
    results_url: str | None
    sections: list[SectionOut]


class CaseList(Schema):
    license: License
    items: list[CaseOut]
    next_cursor: str | None


class CaseDetail(CaseOut):
    license: License


class CommentRowOut(Schema):
    id: str
    no: int
    section: str
    sections: list[str]
    opinion: str
    summarised: bool
    response: str
    reflection: str
    identical_count: int


class CorrectionOut(Schema):
    version: int
    date: str
    note: str


class ResultsOut(Schema):
    license: License
    id: str
    slug: str
    title: str
    municipality: str
    department: str
    version: int
    reported_on: str
    period_label: str
    channels: list[str]
    submitters: int
    items_total: int
    items_published: int
    items_unpublished: int
    rows_total: int
    by_channel: dict[str, int]
    by_section: dict[str, int]
    unpublished_by_reason: dict[str, int]
    corrections: list[CorrectionOut]
    sha256: str
    rows: list[CommentRowOut]


def _department(department: Department) -> str:
    return department.name


def case_out(case: Case) -> dict:
    sections = [{"id": f"{case_id(case.slug)}/section/{s.pk}", "number": s.number, "heading": s.heading,
                 "body": s.body, "page": s.page} for s in case.sections.all()]
    has_results = bool(getattr(case, "has_results", False))
    return {
        "id": case_id(case.slug), "slug": case.slug, "title": case.title, "municipality": case.municipality,
        "department": _department(case.department), "summary": case.summary, "status": queries.public_status(case),
        "period_start": case.period_start, "period_end": case.period_end, "last_day": case.last_day,
        "results_due_on": case.results_due_on, "channels": case.channel_labels, "has_results": has_results,
        "url": case.get_absolute_url(),
        "results_url": reverse("consultations:results", args=[case.slug]) if has_results else None,
        "sections": sections,
    }


@router.get("/", response={200: CaseList, **ERRORS}, summary="案件の一覧",
            description="募集中・受付終了・結果公表済みの案件（準備中の案件は含みません）。新しい順ではなく登録順に、変わらない順序で返します。")
def case_list(request: HttpRequest, q: Query[PageQuery]) -> dict:
    items, cursor = page(queries.public_cases().prefetch_related("sections"), cursor=q.cursor, limit=q.limit)
    return licensed(items=[case_out(c) for c in items], next_cursor=cursor)


@router.get("/{slug}", response={200: CaseDetail, **ERRORS}, summary="案件", description="案件の概要・募集期間・提出方法・該当箇所（案の見出しと本文）。")
def case_detail(request: HttpRequest, slug: str) -> dict:
    case = get_object_or_404(queries.public_cases().prefetch_related("sections"), slug=slug)
    return licensed(**case_out(case))


@router.get("/{slug}/results", response={200: ResultsOut, 304: None, **ERRORS}, summary="公表した結果（意見と区の考え方）",
            description="決裁を経て公表した結果の表。公表ページ・CSVと同じ記録（公表時に固定した内容）から返します。"
                        "`version` を省略すると最新の版です。公表した版は変わらないため、`ETag`・`Last-Modified` を返し、"
                        "`If-None-Match` が一致すれば 304 を返します。")
def results(request: HttpRequest, response: HttpResponse, slug: str, version: int | None = None) -> Any:
    case = get_object_or_404(Case.objects.select_related("department"), slug=slug)
    result = queries.published_result(case, version)
    if result is None:
        raise Http404(_("この案件の結果は公表されていません。"))
    etag = f'"{result.digest}-v{result.version}"'
    response["ETag"] = etag
    response["Last-Modified"] = http_date(result.published_at.timestamp())
    if etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
        return 304, None
    pub = exports.from_dict(result.data)
    base = f"{case_id(case.slug)}/results/v{result.version}"
    return licensed(
        id=base, slug=pub.slug or case.slug, title=pub.title, municipality=pub.municipality,
        department=pub.department, version=result.version, reported_on=pub.reported_on,
        period_label=pub.period_label, channels=pub.channels, submitters=pub.submitters,
        items_total=pub.item_count, items_published=pub.published_count, items_unpublished=pub.unpublished_count,
        rows_total=pub.row_count, by_channel=dict(pub.by_channel), by_section=dict(pub.by_section),
        unpublished_by_reason=dict(pub.unpublished_by_reason),
        corrections=[{"version": int(c.get("version", 0)), "date": str(c.get("date", "")), "note": str(c.get("note", ""))}
                     for c in pub.corrections],
        sha256=result.digest,
        rows=[{"id": f"{base}/row/{r.no}", "no": r.no, "section": r.section, "sections": r.sections,
               "opinion": r.opinion, "summarised": r.summarised, "response": r.response, "reflection": r.reflection,
               "identical_count": r.identical} for r in pub.rows],
    )
