"""iCalendar feeds (RFC 5545, with RFC 7986 NAME/REFRESH-INTERVAL) written with `icalendar`.

Guarantees (see docs/calendars.md): one VEVENT per event with a UID that never changes,
SEQUENCE that rises with every visible change, DTSTAMP/LAST-MODIFIED at the last change (so the
same data always gives the same bytes and the same ETag), all-day events as VALUE=DATE with an
exclusive DTEND, timed events with TZID=Asia/Tokyo and its VTIMEZONE, and cancelled events as
STATUS:CANCELLED for CANCELLED_RETENTION before they leave the feed.

A repeating event with a weekend/holiday rule (`Event.off_day`) keeps its RRULE; every occurrence
not held is an EXDATE, and every occurrence moved is a second VEVENT with the same UID and a
RECURRENCE-ID naming the rule's date (how calendar apps themselves publish a moved occurrence).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from datetime import date as date_type
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Max
from django.utils import timezone
from icalendar import Calendar as ICalendar
from icalendar import Event as IEvent
from icalendar.prop import vDuration, vUri

from hiroba.calendars import recurrence
from hiroba.calendars.models import CANCELLED_RETENTION, Calendar, Event

TOKYO = ZoneInfo("Asia/Tokyo")
REFRESH = timedelta(hours=6)
STATUS: dict[str, str] = {Event.Status.CONFIRMED: "CONFIRMED", Event.Status.TENTATIVE: "TENTATIVE",
          Event.Status.CANCELLED: "CANCELLED"}


@dataclass(frozen=True)
class Feed:
    body: bytes
    etag: str
    last_modified: datetime


def events_for(calendars: Sequence[Calendar], now: datetime | None = None) -> list[Event]:
    return list(
        Event.objects.filter(calendar__in=list(calendars)).in_feed(now)
        .select_related("calendar__school").order_by("start_date", "start_time", "uid")
    )


def last_modified(calendars: Sequence[Calendar], events: Iterable[Event], now: datetime) -> datetime:
    """The latest moment the feed's content changed: an event's change, a calendar's change, or a
    cancelled event leaving the feed at the end of its retention window."""
    moments = [c.updated_at for c in calendars] + [e.updated_at for e in events]
    expired = Event.objects.filter(
        calendar__in=list(calendars), status=Event.Status.CANCELLED,
        cancelled_at__lte=now - CANCELLED_RETENTION,
    ).aggregate(latest=Max("cancelled_at"))["latest"]
    if expired is not None:
        moments.append(expired + CANCELLED_RETENTION)
    latest = max(moments) if moments else now
    return latest.replace(microsecond=0)


def _summary(event: Event, label_mode: str, primary: Calendar | None = None) -> str:
    calendar = event.calendar
    if primary is not None:
        # A grade's or a class's feed: its own events as they are, the ones from above it tagged.
        return event.title if calendar.pk == primary.pk else f"【{calendar.label}】{event.title}"
    if label_mode == "school":
        tag = calendar.school.short_name + ("" if calendar.audience == "school" else f" {calendar.label}")
        return f"【{tag}】{event.title}"
    if label_mode == "audience" and calendar.audience != Calendar.Audience.SCHOOL:
        return f"【{calendar.label}】{event.title}"
    return event.title


def _moment(event: Event, day: date_type, clock: time | None) -> date_type | datetime:
    if event.all_day or clock is None:  # a timed event always has its times (a CheckConstraint)
        return day
    return datetime.combine(day, clock, tzinfo=TOKYO)


def vevents(event: Event, *, label_mode: str = "none", page_url: str = "",
            primary: Calendar | None = None) -> list[IEvent]:
    """The event's VEVENT, then one override per occurrence its weekend/holiday rule moves."""
    master = vevent(event, label_mode=label_mode, page_url=page_url, primary=primary)
    if not (event.rrule and event.off_day):
        return [master]
    series = recurrence.instances(event.rrule, event.start_date, event.exdate_list, event.off_day)
    length = event.end_date - event.start_date
    overrides = []
    for instance in series:
        if not instance.moved:
            continue
        assert instance.day is not None
        component = vevent(event, label_mode=label_mode, page_url=page_url, primary=primary, repeating=False)
        for name in ("DTSTART", "DTEND"):
            del component[name]
        component.add("recurrence-id", _moment(event, instance.nominal, event.start_time))
        component.add("dtstart", _moment(event, instance.day, event.start_time))
        if event.all_day:
            component.add("dtend", instance.day + length + timedelta(days=1))
        else:
            component.add("dtend", _moment(event, instance.day + length, event.end_time))
        overrides.append(component)
    return [master, *overrides]


def vevent(event: Event, *, label_mode: str = "none", page_url: str = "",
           primary: Calendar | None = None, repeating: bool = True) -> IEvent:
    component = IEvent()
    component.add("uid", event.uid)
    component.add("sequence", event.sequence)
    stamp = event.updated_at.astimezone(UTC).replace(microsecond=0)
    component.add("dtstamp", stamp)
    component.add("created", event.created_at.astimezone(UTC).replace(microsecond=0))
    component.add("last-modified", stamp)
    component.add("summary", _summary(event, label_mode, primary))
    if event.all_day:
        component.add("dtstart", event.start_date)
        component.add("dtend", event.end_date + timedelta(days=1))  # DTEND of a DATE is exclusive
        component.add("transp", "TRANSPARENT")
    else:
        assert event.start_time is not None and event.end_time is not None
        component.add("dtstart", datetime.combine(event.start_date, event.start_time, tzinfo=TOKYO))
        component.add("dtend", datetime.combine(event.end_date, event.end_time, tzinfo=TOKYO))
        component.add("transp", "OPAQUE")
    if event.rrule and repeating:
        component.add("rrule", recurrence.for_feed(event.rrule, all_day=event.all_day, start_time=event.start_time))
        exdates = set(event.exdate_list)
        if event.off_day:
            # Occurrences the weekend/holiday rule does not hold (the moved ones are overrides).
            exdates |= {i.nominal for i in recurrence.instances(event.rrule, event.start_date, event.exdate_list,
                                                                 event.off_day) if i.day is None}
        if exdates:
            component.add("exdate", [_moment(event, d, event.start_time) for d in sorted(exdates)])
    description = event.description
    if event.url:
        description = "\n".join(filter(None, [description, f"{event.url_label or 'リンク'}: {event.url}"]))
    if description:
        component.add("description", description)
    if event.location:
        component.add("location", event.location)
    component.add("categories", [event.get_category_display()])
    component.add("status", STATUS[event.status])
    if event.url:
        component.add("url", vUri(event.url))
        component.add("attach", vUri(event.url))
    elif page_url:
        component.add("url", vUri(page_url))
    component.add("class", "PUBLIC")
    return component


def build(*, name: str, description: str, calendars: Sequence[Calendar], feed_url: str = "",
          page_url: str = "", now: datetime | None = None, primary: Calendar | None = None) -> Feed:
    """The whole VCALENDAR for some calendars, with its ETag and Last-Modified. With `primary`, the
    feed is that calendar's: its own events untagged, those of the other calendars 【tagged】."""
    now = now or timezone.now()
    events = events_for(calendars, now)
    schools = {c.school_id for c in calendars}
    label_mode = "school" if len(schools) > 1 else ("audience" if len(calendars) > 1 else "none")
    cal = ICalendar()
    cal.add("prodid", f"-//{settings.HIROBA_MUNICIPALITY}//hiroba school calendars//JA")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("name", name)
    cal.add("x-wr-calname", name)
    cal.add("description", description)
    cal.add("x-wr-caldesc", description)
    cal.add("x-wr-timezone", "Asia/Tokyo")
    cal.add("refresh-interval", vDuration(REFRESH), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", vDuration(REFRESH))
    if feed_url:
        cal.add("source", vUri(feed_url), parameters={"VALUE": "URI"})
    if page_url:
        cal.add("url", vUri(page_url))
    for event in events:
        for component in vevents(event, label_mode=label_mode, page_url=page_url, primary=primary):
            cal.add_component(component)
    if any(not e.all_day for e in events):
        cal.add_missing_timezones()
    body = cal.to_ical()
    etag = '"' + hashlib.sha256(body).hexdigest()[:40] + '"'
    return Feed(body=body, etag=etag, last_modified=last_modified(calendars, events, now))
