"""Japanese dates: 和暦 (era years) beside 西暦, always in Asia/Tokyo."""

from __future__ import annotations

from datetime import date, datetime

from django.utils import timezone

# (first day of the era, name, name in English)
ERAS: tuple[tuple[date, str, str], ...] = (
    (date(2019, 5, 1), "令和", "Reiwa"),
    (date(1989, 1, 8), "平成", "Heisei"),
    (date(1926, 12, 25), "昭和", "Showa"),
    (date(1912, 7, 30), "大正", "Taisho"),
    (date(1873, 1, 1), "明治", "Meiji"),  # the Gregorian calendar's adoption in Japan
)

WEEKDAYS_JA = "月火水木金土日"


def local_date(value: date | datetime) -> date:
    """The calendar day in Asia/Tokyo (aware datetimes are converted first)."""
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.date()
    return value


def era_of(day: date) -> tuple[str, int, str]:
    """(era name, year of the era, English era name). Raises ValueError before 1873."""
    for start, name, name_en in ERAS:
        if day >= start:
            return name, day.year - start.year + 1, name_en
    raise ValueError(f"{day.isoformat()} is before the Gregorian calendar in Japan (1873)")


def wareki(value: date | datetime, *, with_weekday: bool = False) -> str:
    """令和7年3月13日 (1st year of an era written 元年)."""
    day = local_date(value)
    name, year, _ = era_of(day)
    text = f"{name}{'元' if year == 1 else year}年{day.month}月{day.day}日"
    if with_weekday:
        text += f"（{WEEKDAYS_JA[day.weekday()]}）"
    return text


def seireki(value: date | datetime) -> str:
    day = local_date(value)
    return f"{day.year}年{day.month}月{day.day}日"


def wareki_with_seireki(value: date | datetime) -> str:
    """令和7年3月13日 (2025年3月13日) — the form the ward writes in its papers."""
    return f"{wareki(value)} ({seireki(value)})"


def wareki_en(value: date | datetime) -> str:
    """13 March 2025 (Reiwa 7)."""
    day = local_date(value)
    _, year, name_en = era_of(day)
    return f"{day.day} {day.strftime('%B')} {day.year} ({name_en} {year})"


def fiscal_year_of(value: date | datetime) -> int:
    """The Japanese fiscal year (年度, April to March) a day falls in: 2025-03-31 → 2024."""
    day = local_date(value)
    return day.year if day.month >= 4 else day.year - 1


def fiscal_year_bounds(fiscal_year: int) -> tuple[date, date]:
    """First and last day (both inclusive) of a fiscal year: 2024 → 2024-04-01, 2025-03-31."""
    return date(fiscal_year, 4, 1), date(fiscal_year + 1, 3, 31)


def fiscal_year_label(fiscal_year: int) -> str:
    """令和6年度 (the era of the year's first day, 元年 for the first year)."""
    name, year, _ = era_of(date(fiscal_year, 4, 1))
    return f"{name}{'元' if year == 1 else year}年度"
