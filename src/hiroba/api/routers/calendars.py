"""学校カレンダー: the published schools with their iCalendar feeds, and the events (recurring
ones expanded) over a period."""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field

from hiroba.api.base import ERRORS, ApiError, License, SharedThrottle, licensed, page
from hiroba.api.schemas import PageQuery
from hiroba.calendars import queries
from hiroba.calendars.models import Calendar, School

router = Router(tags=["学校カレンダー"], throttle=SharedThrottle("api.public"))
MAX_DAYS = 366


class CalendarOut(Schema):
    id: str
    key: str
    label: str
    feed_url: str


class SchoolOut(Schema):
    id: str
    slug: str
    name: str
    short_name: str
    kind: str
    address: str
    latitude: float | None
    longitude: float | None
    website: str
    url: str
    feed_url: str
    open_data_url: str
    calendars: list[CalendarOut]


class SchoolList(Schema):
    license: License
    items: list[SchoolOut]
    next_cursor: str | None


class EventOut(Schema):
    id: str
    uid: str
    school: str
    calendar: str
    title: str
    description: str
    location: str
    category: str
    all_day: bool
    start_date: date
    end_date: date
    start_time: time | None
    end_time: time | None
    tentative: bool
    url: str


class EventList(Schema):
    license: License
    start: date
    end: date
    items: list[EventOut]
    next_cursor: str | None


class EventQuery(PageQuery):
    start: date | None = Field(None, description="期間の初日（既定は今日）")
    end: date | None = Field(None, description="期間の末日（既定は初日の90日後、最長366日）")
    school: str | None = Field(None, max_length=40, description="学校のURL名（省略するとすべての学校）")


def school_out(school: School) -> dict[str, Any]:
    base = f"calendars/school/{school.slug}"
    return {
        "id": base, "slug": school.slug, "name": school.name, "short_name": school.short_name,
        "kind": school.get_kind_display(), "address": school.address,
        "latitude": float(school.latitude) if school.latitude is not None else None,
        "longitude": float(school.longitude) if school.longitude is not None else None,
        "website": school.website, "url": school.get_absolute_url(),
        "feed_url": reverse("calendars:school_feed", args=[school.slug]),
        "open_data_url": reverse("calendars:school_open_data", args=[school.slug]),
        "calendars": [{"id": f"{base}/calendar/{c.key}", "key": c.key, "label": c.label, "feed_url": c.feed_path()}
                      for c in school.calendars.all()],
    }


@router.get("/schools", response={200: SchoolList, **ERRORS}, summary="学校の一覧（iCalendar の配信先つき）")
def school_list(request: HttpRequest, q: Query[PageQuery]) -> dict[str, Any]:
    items, cursor = page(queries.public_schools(), cursor=q.cursor, limit=q.limit)
    return licensed(items=[school_out(s) for s in items], next_cursor=cursor)


@router.get("/events", response={200: EventList, **ERRORS}, summary="予定の一覧",
            description="期間内の予定（繰り返しの予定は日ごとに展開、中止した予定は含みません）。日付順。")
def event_list(request: HttpRequest, q: Query[EventQuery]) -> dict[str, Any]:
    first = q.start or timezone.localdate()
    last = q.end or first + timedelta(days=90)
    if last < first:
        raise ApiError(400, "period_order", _("end は start 以降の日にしてください。"), field="end")
    if (last - first).days >= MAX_DAYS:
        raise ApiError(400, "period_too_long", _("期間は366日以内にしてください。"), field="end")
    schools = queries.public_schools()
    if q.school:
        schools = schools.filter(slug=q.school)
        get_object_or_404(schools)
    calendars = Calendar.objects.filter(school__in=schools).select_related("school")
    found = queries.occurrences(calendars, first, last, include_cancelled=False)
    items, cursor = page(found, cursor=q.cursor, limit=q.limit)
    return licensed(start=first, end=last, next_cursor=cursor, items=[{
        "id": f"calendars/event/{o.event.uid}/{o.start.isoformat()}", "uid": o.event.uid,
        "school": o.calendar.school.slug, "calendar": o.calendar.label, "title": o.event.title,
        "description": o.event.description, "location": o.event.location, "category": o.event.get_category_display(),
        "all_day": o.event.all_day, "start_date": o.start, "end_date": o.end, "start_time": o.start_time,
        "end_time": o.end_time, "tentative": o.event.status == o.event.Status.TENTATIVE, "url": o.event.url,
    } for o in items])
