"""The staff API: a personal access token (Authorization: Bearer hiroba_…) narrowed to its
departments, modules and read or write. Reads go through the modules' own staff queries; the one
write, an opinion sent by another intake system, calls the very service the web form and the
paper intake call (same 受付番号, same audit entry, same idempotency)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db.models import Prefetch
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Header, Query, Router, Schema
from pydantic import Field

from hiroba.api.base import (
    STAFF_ERRORS,
    ApiError,
    ErrorOut,
    License,
    SharedThrottle,
    Strict,
    TokenAuth,
    grant,
    licensed,
    page,
)
from hiroba.api.models import Module
from hiroba.api.schemas import PageQuery
from hiroba.consultations import queries, services
from hiroba.consultations.models import Channel, Item, Mask, Section

router = Router(tags=["職員用（APIトークン）"], auth=TokenAuth(), throttle=SharedThrottle("api.staff"))


class TokenOut(Schema):
    license: License
    id: str
    name: str
    modules: list[str]
    access: str
    departments: list[str]
    expires_at: datetime


class StaffCaseOut(Schema):
    id: str
    slug: str
    title: str
    department: str
    department_code: str
    state: str
    period_start: date
    period_end: date
    submissions: int
    items: int


class StaffCaseList(Schema):
    license: License
    items: list[StaffCaseOut]
    next_cursor: str | None


class StaffItemOut(Schema):
    id: str
    number: int
    sections: list[str]
    section_label: str
    opinion: str
    summary: str
    published: bool
    excluded_category: str
    channel: str
    response: str | None


class StaffItemList(Schema):
    license: License
    items: list[StaffItemOut]
    next_cursor: str | None


class SubmissionIn(Strict):
    channel: str = Field(..., description="提出方法（web, email, post, fax, hand）", max_length=10)
    text: str = Field(..., min_length=1, max_length=20000, description="意見")
    name: str = Field("", max_length=100)
    address: str = Field("", max_length=200)
    category: str = Field("", max_length=20)
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=30)
    section: int | None = Field(None, description="該当箇所のID（案件の sections[].id の末尾の数字）")
    received_at: datetime | None = Field(None, description="受付日時（省略すると今）")
    postmark_date: date | None = Field(None, description="消印日（郵送のみ）")


class SubmissionOut(Schema):
    license: License
    receipt_number: str
    received_at: datetime
    created: bool


@router.get("/token", response={200: TokenOut, **STAFF_ERRORS}, summary="このトークンの範囲")
def token_info(request: HttpRequest) -> dict[str, Any]:
    token = request.auth  # type: ignore[attr-defined]
    return licensed(id=f"api/token/{token.prefix}", name=token.name, modules=token.modules, access=token.access,
                    departments=sorted(token.departments.values_list("code", flat=True)), expires_at=token.expires_at)


def _staff_cases(request: HttpRequest, *, write: bool = False) -> Any:
    g = grant(request, Module.CONSULTATIONS, write=write)
    return g, queries.case_list(g.user).filter(department_id__in=g.department_ids)


@router.get("/consultations/", response={200: StaffCaseList, **STAFF_ERRORS}, summary="所属の案件（職員用）")
def staff_case_list(request: HttpRequest, q: Query[PageQuery]) -> dict[str, Any]:
    _, cases = _staff_cases(request)
    items, cursor = page(cases, cursor=q.cursor, limit=q.limit)
    return licensed(next_cursor=cursor, items=[{
        "id": f"consultations/case/{c.slug}", "slug": c.slug, "title": c.title, "department": c.department.name,
        "department_code": c.department.code, "state": c.state, "period_start": c.period_start,
        "period_end": c.period_end, "submissions": c.submission_count, "items": c.item_count,
    } for c in items])


@router.get("/consultations/{slug}/items", response={200: StaffItemList, **STAFF_ERRORS},
            summary="案件の意見と回答（職員用）",
            description="意見の項目と区の考え方（作成中を含む）。意見の本文はマスキングを適用した文面で、"
                        "提出者の氏名・住所・連絡先は返しません。")
def staff_items(request: HttpRequest, slug: str, q: Query[PageQuery]) -> dict[str, Any]:
    _, cases = _staff_cases(request)
    case = get_object_or_404(cases, slug=slug)
    qs = (Item.objects.filter(case=case).select_related("answer", "submission")
          .prefetch_related(Prefetch("sections", queryset=Section.objects.order_by("position", "id")),
                            Prefetch("masks", queryset=Mask.objects.all())))
    items, cursor = page(qs, cursor=q.cursor, limit=q.limit)
    return licensed(next_cursor=cursor, items=[{
        "id": f"consultations/case/{case.slug}/item/{i.number}", "number": i.number,
        "sections": [s.heading for s in i.sections.all()], "section_label": i.section_label,
        "opinion": services.masked_text(i), "summary": services.masked_text(i, "summary"),
        "published": i.is_published, "excluded_category": i.exclude_category, "channel": i.submission.channel,
        "response": i.answer.text if i.answer else None,
    } for i in items])


@router.post("/consultations/{slug}/submissions", response={200: SubmissionOut, 201: SubmissionOut, 409: ErrorOut,
                                                            **STAFF_ERRORS},
             summary="意見の受付（他の受付システムから）",
             description="他の受付システムが受け付けた意見を登録します。`Idempotency-Key` ヘッダーが必須で、同じキーで再送すると"
                         "登録済みの受付（200）を返します。受付番号・監査記録・期間の確認はウェブフォームと同じです。")
def submission_create(request: HttpRequest, slug: str, body: SubmissionIn,
                      idempotency_key: str = Header(..., alias="Idempotency-Key", min_length=8, max_length=100)) -> Any:
    g, cases = _staff_cases(request, write=True)
    case = get_object_or_404(cases, slug=slug)
    if not g.user.has_perm("consultations.change_case", case):
        raise ApiError(403, "not_allowed", _("この案件に意見を登録する権限がありません。"))
    if body.channel not in Channel.values or body.channel == Channel.UNKNOWN:
        raise ApiError(400, "channel_invalid", _("提出方法が正しくありません。"), field="channel")
    section = None
    if body.section is not None:
        section = Section.objects.filter(case=case, pk=body.section).first()
        if section is None:
            raise ApiError(400, "section_invalid", _("該当箇所がこの案件のものではありません。"), field="section")
    if body.received_at is not None and body.received_at.tzinfo is None:
        raise ApiError(400, "received_at_naive", _("received_at にはタイムゾーン（例 +09:00）を付けてください。"),
                       field="received_at")
    submission, created = services.submission_receive(
        actor=g.user, case=case, idempotency_key=f"api:{g.token.pk}:{idempotency_key}", channel=body.channel,
        text=body.text, name=body.name, address=body.address, category=body.category, email=body.email,
        phone=body.phone, section=section, received_at=body.received_at, postmark_date=body.postmark_date,
        entered_by=g.user, site_url=request.build_absolute_uri("/"),
    )
    if submission.case_id != case.pk:
        raise ApiError(409, "idempotency_conflict", _("この Idempotency-Key は別の案件で使われています。"))
    return 201 if created else 200, licensed(receipt_number=submission.receipt_number,
                                             received_at=submission.received_at, created=created)
