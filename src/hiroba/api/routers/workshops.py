"""ワークショップ: the programmes' public information, sessions and the published draw (numbers
only: the applicants are minors and no name, school or contact ever leaves the staff pages)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema

from hiroba.api.base import ERRORS, License, SharedThrottle, licensed, page
from hiroba.api.schemas import PageQuery
from hiroba.workshops import queries
from hiroba.workshops.models import Programme

router = Router(tags=["ワークショップ"], throttle=SharedThrottle("api.public"))


class SessionOut(Schema):
    id: str
    number: int
    title: str
    starts_at: datetime
    ends_at: datetime
    place: str
    agenda: str


class DrawOut(Schema):
    rank: int
    number: str
    result: str


class ProgrammeOut(Schema):
    id: str
    code: str
    title: str
    purpose: str
    audience: str
    department: str
    capacity: int
    applications_open_on: date
    applications_close_on: date
    starts_on: date
    ends_on: date
    url: str
    sessions: list[SessionOut]


class ProgrammeList(Schema):
    license: License
    items: list[ProgrammeOut]
    next_cursor: str | None


class ProgrammeDetail(ProgrammeOut):
    license: License
    draw: list[DrawOut]


def programme_out(p: Programme) -> dict[str, Any]:
    base = f"workshops/programme/{p.code}"
    return {
        "id": base, "code": p.code, "title": p.title, "purpose": p.purpose, "audience": p.audience,
        "department": p.department.name, "capacity": p.capacity, "applications_open_on": p.applications_open_on,
        "applications_close_on": p.applications_close_on, "starts_on": p.starts_on, "ends_on": p.ends_on,
        "url": p.get_absolute_url(),
        "sessions": [{"id": f"{base}/session/{s.number}", "number": s.number, "title": s.title,
                      "starts_at": s.starts_at, "ends_at": s.ends_at, "place": s.place, "agenda": s.agenda}
                     for s in p.sessions.all()],
    }


@router.get("/", response={200: ProgrammeList, **ERRORS}, summary="ワークショップの一覧")
def programme_list(request: HttpRequest, q: Query[PageQuery]) -> dict[str, Any]:
    items, cursor = page(queries.public_programmes().prefetch_related("sessions"), cursor=q.cursor, limit=q.limit)
    return licensed(items=[programme_out(p) for p in items], next_cursor=cursor)


@router.get("/{code}", response={200: ProgrammeDetail, **ERRORS}, summary="ワークショップ",
            description="公開情報と各回の日程。抽選の結果は受付番号と順位だけを返します（氏名などは返しません）。")
def programme_detail(request: HttpRequest, code: str) -> dict[str, Any]:
    programme = get_object_or_404(queries.public_programmes().prefetch_related("sessions"), code=code)
    return licensed(**programme_out(programme), draw=queries.public_results(programme))
