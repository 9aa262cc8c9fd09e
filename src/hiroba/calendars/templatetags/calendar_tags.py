"""Small template helpers for calendar pages: 4月7日（月）, time ranges, occurrence wording."""

from __future__ import annotations

from datetime import date, time
from typing import Any

from django import template

from hiroba.calendars import recurrence
from hiroba.calendars.queries import Occurrence
from hiroba.core.dates import WEEKDAYS_JA, wareki

register = template.Library()


@register.filter
def md(day: date | None) -> str:
    """4月7日（月）."""
    if not day:
        return ""
    return f"{day.month}月{day.day}日（{WEEKDAYS_JA[day.weekday()]}）"


@register.filter
def hm(value: time | None) -> str:
    return f"{value.hour}:{value.minute:02d}" if value else ""


@register.filter
def when(item: Occurrence) -> str:
    """終日 / 8:30〜10:00 / 7月19日（土）〜8月31日（日）, as a family reads it."""
    event = item.event
    parts = []
    if item.end > item.start:
        parts.append(f"{md(item.start)}〜{md(item.end)}")
    if event.all_day:
        parts.append("終日" if not parts else "")
    else:
        parts.append(f"{hm(event.start_time)}〜{hm(event.end_time)}")
    return " ".join(p for p in parts if p)


@register.filter
def repeat_text(value: Any) -> str:
    """An event's repeat in words (with its weekend/holiday rule); a bare RRULE also works."""
    if isinstance(value, str):
        return recurrence.describe(value)
    return recurrence.describe(value.rrule, value.off_day)


@register.filter
def month_title(day: date) -> str:
    """令和7年5月 (2025年5月)."""
    era = wareki(day).split("年")[0]
    return f"{era}年{day.month}月（{day.year}年{day.month}月）"


@register.filter
def category_class(event: object) -> str:
    return f"cal-cat--{getattr(event, 'category', 'other')}"
