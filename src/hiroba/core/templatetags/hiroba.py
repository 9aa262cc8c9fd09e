"""Template helpers: {{ value|wareki }} writes 令和7年3月13日 (2025年3月13日)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django import template
from django.core.paginator import Page
from django.utils import translation
from django.utils.html import format_html

from hiroba.core import dates

register = template.Library()


@register.filter
def wareki(value: date | datetime | None) -> str:
    """和暦 beside 西暦 in Japanese; "13 March 2025 (Reiwa 7)" in English."""
    if value in (None, ""):
        return ""
    if translation.get_language() == "en":
        return dates.wareki_en(value)  # type: ignore[arg-type]
    return dates.wareki_with_seireki(value)  # type: ignore[arg-type]


@register.filter
def wareki_only(value: date | datetime | None) -> str:
    if value in (None, ""):
        return ""
    return dates.wareki(value)  # type: ignore[arg-type]


@register.filter
def wareki_time(value: datetime | None) -> str:
    """令和7年3月13日 (2025年3月13日) 14:05 in Asia/Tokyo."""
    if value is None:
        return ""
    local = dates.timezone.localtime(value) if dates.timezone.is_aware(value) else value
    return f"{wareki(local)} {local:%H:%M}"


@register.simple_tag
def time_tag(value: date | datetime) -> str:
    """<time datetime="2025-03-13">令和7年3月13日 (2025年3月13日)</time>."""
    day = dates.local_date(value)
    return format_html('<time datetime="{}">{}</time>', day.isoformat(), wareki(value))


@register.filter
def change_lines(changes: object) -> list[str]:
    """{"name": ["前", "後"], "reason": "…"} → ["name: 前 → 後", "reason: …"]."""
    if not isinstance(changes, dict):
        return [str(changes)] if changes else []
    lines = []
    for key, value in changes.items():
        if isinstance(value, list) and len(value) == 2:
            before, after = ("—" if v in (None, "") else v for v in value)
            lines.append(f"{key}: {before} → {after}")
        else:
            lines.append(f"{key}: {value}")
    return lines


@register.simple_tag(takes_context=True)
def page_link(context: Any, number: int, param: str = "page") -> str:
    """The current request's query string with `param` set to `number` (the other parameters kept):
    the links of includes/pagination.html, for a list whose page parameter is not "page"."""
    query = context["request"].GET.copy()
    query[param or "page"] = number
    return "?" + query.urlencode()


@register.filter
def elided_pages(page: Page[Any]) -> list[int | str]:
    """The page numbers to link from a Page: 1 … 4 5 [6] 7 8 … 20 (`Paginator.ELLIPSIS` in the gaps)."""
    return list(page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1))
