"""Reads: schools a user may see, and event occurrences laid out for list and month views."""

from __future__ import annotations

import calendar as pycalendar
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from typing import Any

import jpholiday
from django.db.models import Max, Prefetch, Q, QuerySet
from django.utils import timezone

from hiroba.accounts import permissions
from hiroba.accounts.models import Role
from hiroba.calendars import recurrence
from hiroba.calendars.models import Calendar, Event, School, Term


def public_schools() -> QuerySet[School]:
    return School.objects.filter(is_published=True).prefetch_related(
        Prefetch("calendars", queryset=Calendar.objects.order_by("sort_order", "grade", "class_name"))
    )


def schools_for(user: Any, minimum: Role = Role.READ) -> QuerySet[School]:
    """Schools whose department the user holds `minimum` on (all for a system administrator)."""
    ids = permissions.department_ids(user, minimum)
    qs = School.objects.select_related("department")
    return qs if ids is None else qs.filter(department_id__in=ids)


def feed_calendars(calendar: Calendar, *, school_wide: bool = True, grade: bool = True) -> list[Calendar]:
    """The calendars a grade's or a class's feed carries: its own, then the ones above it — 全校
    (unless `school_wide` is False) and, for a class, its 学年 (unless `grade` is False) — so that a
    parent who subscribes to one class misses nothing that concerns that class."""
    chosen = [calendar]
    if calendar.audience == Calendar.Audience.SCHOOL:
        return chosen
    above = Q(audience=Calendar.Audience.SCHOOL) if school_wide else Q(pk__in=[])
    if grade and calendar.audience == Calendar.Audience.CLASS:
        above |= Q(audience=Calendar.Audience.GRADE, grade=calendar.grade)
    chosen += list(Calendar.objects.filter(above, school_id=calendar.school_id).select_related("school")
                   .order_by("sort_order", "grade", "class_name"))
    return chosen


@dataclass(frozen=True)
class Occurrence:
    event: Event
    start: date
    end: date  # inclusive

    @property
    def start_time(self) -> time | None:
        return self.event.start_time

    @property
    def end_time(self) -> time | None:
        return self.event.end_time

    @property
    def calendar(self) -> Calendar:
        return self.event.calendar

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end


def occurrences(calendars: Iterable[Calendar], first: date, last: date, *,
                include_cancelled: bool = True) -> list[Occurrence]:
    """Every occurrence touching first…last (both inclusive), recurring events expanded."""
    events = Event.objects.filter(calendar__in=list(calendars)).filter(
        Q(rrule="", start_date__lte=last, end_date__gte=first)
        | (~Q(rrule="") & Q(start_date__lte=last + recurrence.MOVE_MARGIN))
    ).select_related("calendar__school")
    events = events.in_feed() if include_cancelled else events.live()
    found: list[Occurrence] = []
    for event in events:
        length = timedelta(days=(event.end_date - event.start_date).days)
        window_start = first - length
        for start in recurrence.occurrence_starts(event.rrule, event.start_date, event.exdate_list,
                                                  (window_start, last), event.off_day):
            found.append(Occurrence(event, start, start + length))
    found.sort(key=lambda o: (o.start, not o.event.all_day, o.start_time or time(), o.calendar.sort_order,
                              o.event.title))
    return found


@dataclass
class Day:
    day: date
    in_month: bool
    holiday: str = ""
    items: list[Occurrence] = field(default_factory=list)
    is_today: bool = False

    @property
    def weekday(self) -> int:
        return self.day.weekday()

    @property
    def is_off(self) -> bool:
        return bool(self.holiday) or self.day.weekday() >= 5


def holidays_between(first: date, last: date) -> dict[date, str]:
    return dict(jpholiday.between(first, last))


def month_grid(year: int, month: int, items: list[Occurrence]) -> list[list[Day]]:
    """Weeks (Sunday first, as Japanese wall calendars) of the month, each day with its events."""
    weeks = pycalendar.Calendar(firstweekday=6).monthdatescalendar(year, month)
    first, last = weeks[0][0], weeks[-1][-1]
    holidays = holidays_between(first, last)
    today = timezone.localdate()
    grid = []
    for week in weeks:
        row = []
        for day in week:
            row.append(Day(day, day.month == month, holidays.get(day, ""),
                           [o for o in items if o.covers(day)], day == today))
        grid.append(row)
    return grid


def last_event_day(calendars: Iterable[Calendar]) -> date | None:
    """The last day any live event of these calendars covers; None when a series never ends."""
    live = Event.objects.filter(calendar__in=list(calendars)).exclude(status=Event.Status.CANCELLED)
    last = live.filter(rrule="").aggregate(last=Max("end_date"))["last"]
    for rule, start, exdates, off_day in live.exclude(rrule="").values_list("rrule", "start_date", "exdates",
                                                                            "off_day"):
        series_end = recurrence.last_day(rule, start, [date.fromisoformat(d) for d in exdates], off_day)
        if series_end is None:
            return None
        last = series_end if last is None else max(last, series_end)
    return last


def month_bounds(year: int, month: int) -> tuple[date, date]:
    first = date(year, month, 1)
    return first, date(year, month, pycalendar.monthrange(year, month)[1])


def terms_between(schools: Iterable[School], first: date, last: date) -> list[Term]:
    return list(Term.objects.filter(school__in=list(schools), start_date__lte=last, end_date__gte=first)
                .select_related("school").order_by("start_date", "school__name"))


def group_by_day(items: list[Occurrence], first: date, last: date) -> list[tuple[date, str, list[Occurrence]]]:
    """(day, holiday name, occurrences) for each day in first…last that has an event or a holiday."""
    holidays = holidays_between(first, last)
    days: dict[date, list[Occurrence]] = {}
    for item in items:
        day = max(item.start, first)
        days.setdefault(day, []).append(item)
    for day in holidays:
        days.setdefault(day, [])
    return [(day, holidays.get(day, ""), days[day]) for day in sorted(days) if first <= day <= last]
