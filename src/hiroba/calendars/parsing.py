"""Reading dates and times the way schools write them: 西暦, 和暦, Excel cells, full-width digits.

Every failure raises `ParseError` (a `ServiceError` with a code) with a translatable message that
names the value, so that the import preview and the forms can show it beside the field.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time, timedelta

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from hiroba.calendars.errors import ParseError
from hiroba.core.dates import ERAS

__all__ = ["ParseError", "normalize", "parse_date", "parse_date_list", "parse_time"]

ERA_NAMES = {name: start for start, name, _label in ERAS}
ERA_LETTERS = {"R": "令和", "H": "平成", "S": "昭和", "T": "大正", "M": "明治"}
# Excel's serial day numbers for 1982-01-01 … 2064-12-31: a bare number outside this is not a date.
EXCEL_SERIAL_RANGE = (29952, 60267)


def normalize(value: object) -> str:
    """NFKC (full-width digits and letters to half-width), trimmed, inner whitespace collapsed."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value))
    return re.sub(r"\s+", " ", text).strip()


_WEEKDAY_SUFFIX = re.compile(r"\s*\(\s*[月火水木金土日](?:曜日?)?\s*\)\s*$")
_SEP = r"\s*[年./\-]\s*"
_WESTERN = re.compile(rf"^(\d{{4}}){_SEP}(\d{{1,2}})\s*[月./\-]\s*(\d{{1,2}})\s*日?$")
_JAPANESE = re.compile(
    rf"^(令和|平成|昭和|大正|明治|[RHSTM])\s*(元|\d{{1,2}}){_SEP}(\d{{1,2}})\s*[月./\-]\s*(\d{{1,2}})\s*日?$",
    re.IGNORECASE,
)
_ISO_DATETIME = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T]00:00(?::00(?:\.0+)?)?$")
_NO_YEAR = re.compile(r"^(\d{1,2})\s*[月/]\s*(\d{1,2})\s*日?$")


def _era_bounds(era: str) -> tuple[date, date | None]:
    starts = sorted(ERA_NAMES.items(), key=lambda item: item[1])
    for index, (name, start) in enumerate(starts):
        if name == era:
            following = starts[index + 1][1] if index + 1 < len(starts) else None
            return start, following
    raise KeyError(era)


def _make_date(year: int, month: int, day: int, shown: str) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise ParseError(format_lazy(_("「{shown}」という日付はありません（{month}月{day}日は存在しない日です）"), shown=shown, month=month, day=day),
                         code="date_nonexistent") from None


def parse_date(value: object) -> date:
    """A date from an Excel cell or text: 2025-04-07, 2025/4/7, 2025年4月7日, 令和7年4月7日, R7.4.7."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if EXCEL_SERIAL_RANGE[0] <= value <= EXCEL_SERIAL_RANGE[1] and float(value).is_integer():
            return date(1899, 12, 30) + timedelta(days=int(value))
        raise ParseError(format_lazy(_("「{value}」は日付として読めません（例: 2025/4/7、令和7年4月7日）"), value=value),
                         code="date_unreadable")
    text = _WEEKDAY_SUFFIX.sub("", normalize(value))
    if not text:
        raise ParseError(_("日付が空です"),
                         code="date_empty")
    if match := _ISO_DATETIME.match(text):
        text = match.group(1)
    if match := _WESTERN.match(text):
        year, month, day = (int(g) for g in match.groups())
        return _make_date(year, month, day, text)
    if match := _JAPANESE.match(text):
        era_text, year_text, month_text, day_text = match.groups()
        era = ERA_LETTERS.get(era_text.upper(), era_text)
        era_year = 1 if year_text == "元" else int(year_text)
        if era_year < 1:
            raise ParseError(format_lazy(_("「{text}」の年が正しくありません"), text=text),
                             code="date_bad_year")
        start, following = _era_bounds(era)
        found = _make_date(start.year + era_year - 1, int(month_text), int(day_text), text)
        if found < start or (following is not None and found >= following):
            raise ParseError(format_lazy(_("「{text}」は{era}の期間にない日付です"), text=text, era=era),
                             code="date_outside_era")
        return found
    if _NO_YEAR.match(text):
        raise ParseError(format_lazy(_("「{text}」には年がありません。2025/4/7 や 令和7年4月7日 のように年から書いてください"), text=text),
                         code="date_no_year")
    raise ParseError(format_lazy(_("「{text}」は日付として読めません（例: 2025/4/7、令和7年4月7日）"), text=text),
                     code="date_unreadable")


_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
_KANJI_CLOCK = re.compile(r"^(午前|午後)?\s*(\d{1,2})\s*時\s*(?:(\d{1,2})\s*分|半)?$")
_AMPM_CLOCK = re.compile(r"^(午前|午後)\s*(\d{1,2}):(\d{2})$")


def parse_time(value: object) -> time | None:
    """A wall-clock time in Asia/Tokyo: 8:30, 08:30:00, 8時30分, 午後1時, 13時半; blank → None."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.time().replace(microsecond=0)
    if isinstance(value, time):
        return value.replace(microsecond=0)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if 0 <= value < 1:  # Excel stores a time as a fraction of a day
            seconds = round(float(value) * 86400)
            return time(seconds // 3600, seconds % 3600 // 60)
        raise ParseError(format_lazy(_("「{value}」は時刻として読めません（例: 9:30、13時）"), value=value),
                         code="time_unreadable")
    text = normalize(value)
    if not text:
        return None
    hour = minute = -1
    if match := _CLOCK.match(text):
        hour, minute = int(match.group(1)), int(match.group(2))
    elif match := _AMPM_CLOCK.match(text):
        hour, minute = int(match.group(2)), int(match.group(3))
        if not 0 <= hour <= 12:
            raise ParseError(format_lazy(_("「{text}」は時刻として読めません"), text=text),
                             code="time_unreadable")
        hour = hour % 12 + (12 if match.group(1) == "午後" else 0)
    elif match := _KANJI_CLOCK.match(text):
        half, hour = text.endswith("半"), int(match.group(2))
        minute = 30 if half else int(match.group(3) or 0)
        if match.group(1):
            if not 0 <= hour <= 12:
                raise ParseError(format_lazy(_("「{text}」は時刻として読めません"), text=text),
                                 code="time_unreadable")
            hour = hour % 12 + (12 if match.group(1) == "午後" else 0)
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise ParseError(format_lazy(_("「{text}」は時刻として読めません（例: 9:30、13時）"), text=text),
                         code="time_unreadable")
    return time(hour, minute)


def parse_date_list(value: object) -> list[date]:
    """Several dates separated by 、 , ; or line breaks (除外日)."""
    if isinstance(value, (date, datetime)):
        return [parse_date(value)]
    text = normalize(str(value).replace("\n", "、")) if value is not None else ""
    parts = [part.strip() for part in re.split(r"[、,;]", text) if part.strip()]
    return [parse_date(part) for part in parts]
