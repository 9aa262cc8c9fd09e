"""Recurrence rules (RFC 5545 RRULE): validation, expansion for the month view, Japanese wording.

An event stores its rule without the `RRULE:` prefix and with UNTIL as a plain date
(`FREQ=WEEKLY;BYDAY=WE;UNTIL=20250723`); the feed writes UNTIL in the form RFC 5545 requires
for the event's DTSTART (a DATE for all-day events, a UTC DATE-TIME for timed ones).

An RRULE cannot say "if it falls on a weekend or a public holiday, skip it / hold it on the
weekday before / after". An event's `off_day` says so (OFF_DAY_RULES); `instances` expands the
rule and applies it, and the feed writes the result as RFC 5545 has it: the rule, an EXDATE for
every occurrence not held, and an override (same UID, RECURRENCE-ID = the rule's date) for every
occurrence moved. Japanese public holidays come from jpholiday.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import jpholiday
from dateutil.rrule import rrulestr
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from icalendar.prop import vRecur

from hiroba.calendars.parsing import ParseError, normalize, parse_date

TOKYO = ZoneInfo("Asia/Tokyo")
ALLOWED_FREQ = {"DAILY", "WEEKLY", "MONTHLY", "YEARLY"}
WEEKDAY_CODES = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
WEEKDAY_JA = dict(zip(WEEKDAY_CODES, "月火水木金土日", strict=True))
# Shorthands a clerk can type in the 繰り返し column instead of an RRULE.
SHORTHANDS = {"毎日": "daily", "毎週": "weekly", "隔週": "biweekly", "毎月": "monthly"}
MAX_OCCURRENCES = 400
# What to do with an occurrence on a Saturday, a Sunday or a public holiday ("" = hold it anyway).
SKIP, PREVIOUS, NEXT = "skip", "previous", "next"
OFF_DAY_RULES = ("", SKIP, PREVIOUS, NEXT)
OFF_DAY_JA = {SKIP: "土日・祝日は行わない", PREVIOUS: "土日・祝日は前の平日", NEXT: "土日・祝日は次の平日"}
# How far an occurrence may move (the longest run of days off, Golden Week, is five days):
# expanding this much beyond a window finds every occurrence that moves into it.
MOVE_MARGIN = timedelta(days=10)


def is_day_off(day: date) -> bool:
    """A Saturday, a Sunday or a Japanese public holiday (including 振替休日 and 国民の休日)."""
    return day.weekday() >= 5 or jpholiday.is_holiday(day)


def shifted(day: date, off_day: str) -> date | None:
    """Where an occurrence of the rule on `day` takes place under `off_day` (None: not held)."""
    if not off_day or not is_day_off(day):
        return day
    if off_day == SKIP:
        return None
    step = timedelta(days=-1 if off_day == PREVIOUS else 1)
    while is_day_off(day):
        day += step
    return day


@dataclass(frozen=True)
class Instance:
    """One occurrence of a rule: its date by the rule (RECURRENCE-ID) and the day it is held."""

    nominal: date
    day: date | None  # None: not held (an 除外日, a skipped day off, or moved onto another occurrence)

    @property
    def moved(self) -> bool:
        return self.day is not None and self.day != self.nominal


def build(kind: str, start: date, until: date | None) -> str:
    """An RRULE from a shorthand: daily, weekly (the start's weekday), biweekly, monthly (same day)."""
    parts: dict[str, object]
    weekday = WEEKDAY_CODES[start.weekday()]
    if kind == "daily":
        parts = {"FREQ": "DAILY"}
    elif kind == "weekly":
        parts = {"FREQ": "WEEKLY", "BYDAY": weekday}
    elif kind == "biweekly":
        parts = {"FREQ": "WEEKLY", "INTERVAL": 2, "BYDAY": weekday}
    elif kind == "monthly":
        parts = {"FREQ": "MONTHLY", "BYMONTHDAY": start.day}
    else:
        raise ParseError(format_lazy(_("繰り返し「{kind}」は使えません（毎日・毎週・隔週・毎月、またはRRULE）"), kind=kind),
                         code="repeat_unknown")
    if until is not None:
        parts["UNTIL"] = until
    return canonical(vRecur(parts))


def canonical(recur: vRecur) -> str:
    return recur.to_ical().decode()


def parse(text: str, *, start: date, until: object = None) -> str:
    """Validate a 繰り返し value (a shorthand or an RRULE) and return the stored form ('' for none)."""
    value = normalize(text)
    until_date = parse_date(until) if normalize(until) else None
    if not value:
        if until_date is not None:
            raise ParseError(_("繰り返し終了日がありますが、繰り返しが指定されていません"),
                             code="repeat_until_without_repeat")
        return ""
    if value in SHORTHANDS:
        rule = build(SHORTHANDS[value], start, until_date)
    else:
        value = value.upper().removeprefix("RRULE:")
        if "FREQ=" not in value:
            raise ParseError(format_lazy(_("繰り返し「{text}」を読めません（毎日・毎週・隔週・毎月、またはRRULE）"), text=text),
                             code="repeat_unreadable")
        try:
            recur = vRecur.from_ical(value)
        except (ValueError, TypeError):
            raise ParseError(format_lazy(_("繰り返し「{text}」を読めません（毎週・隔週・毎月、またはRRULE）"), text=text),
                             code="repeat_unreadable") from None
        freq = recur.get("FREQ", [None])[0]
        if freq not in ALLOWED_FREQ:
            raise ParseError(format_lazy(_("繰り返し「{text}」のFREQは DAILY・WEEKLY・MONTHLY・YEARLY のいずれかにしてください"), text=text),
                             code="repeat_frequency")
        if until_date is not None:
            recur["UNTIL"] = [until_date]
        elif "UNTIL" in recur:
            until_value = recur["UNTIL"][0]
            recur["UNTIL"] = [until_value.astimezone(TOKYO).date() if isinstance(until_value, datetime)
                              and until_value.tzinfo else getattr(until_value, "date", lambda: until_value)()]
        rule = canonical(recur)
    try:
        rrulestr(rule, dtstart=datetime.combine(start, time()))
    except (ValueError, TypeError) as exc:
        raise ParseError(format_lazy(_("繰り返し「{text}」を読めません: {exc}"), text=text, exc=exc),
                         code="repeat_unreadable") from None
    until_value = vRecur.from_ical(rule).get("UNTIL", [None])[0]
    if until_value is not None and until_value < start:
        raise ParseError(_("繰り返し終了日が開始日より前です"),
                         code="repeat_until_before_start")
    return rule


def _nominal_dates(rule: str, start: date, window: tuple[date, date] | None,
                   limit: int = MAX_OCCURRENCES) -> list[date]:
    recurrence = rrulestr(rule, dtstart=datetime.combine(start, time()))
    if window is None:
        moments: Iterable[datetime] = recurrence
    else:
        moments = recurrence.between(datetime.combine(window[0], time()), datetime.combine(window[1], time()),
                                     inc=True)
    days = []
    for moment in moments:
        days.append(moment.date())
        if len(days) >= limit:
            break
    return days


def instances(rule: str, start: date, exdates: Iterable[date] = (), off_day: str = "",
              window: tuple[date, date] | None = None) -> list[Instance]:
    """The rule's occurrences with 除外日 and the weekend/holiday rule applied.

    An 除外日 names either the rule's date or the day it moved to. A moved occurrence that lands
    on a day the series already holds is not held twice. With `window`, only the occurrences held
    (or not held) in it; without, the whole series (which must end: UNTIL or COUNT)."""
    skipped = set(exdates)
    if window is not None and off_day:
        nominal = _nominal_dates(rule, start, (window[0] - MOVE_MARGIN, window[1] + MOVE_MARGIN))
    else:
        nominal = _nominal_dates(rule, start, window)
    planned = [(d, None if d in skipped else shifted(d, off_day)) for d in nominal]
    planned = [(d, None if held in skipped else held) for d, held in planned]
    # Occurrences held on their own date keep it; a moved one that collides is dropped.
    taken = {held for d, held in planned if held == d}
    found = []
    for d, held in planned:
        if held is not None and held != d:
            if held in taken:
                held = None
            else:
                taken.add(held)
        found.append(Instance(d, held))
    if window is not None:
        found = [i for i in found if window[0] <= (i.day or i.nominal) <= window[1]]
    return found


def occurrence_starts(rule: str, start: date, exdates: list[date], window: tuple[date, date],
                      off_day: str = "") -> list[date]:
    """Start dates of the occurrences between window[0] and window[1] (inclusive), EXDATEs removed,
    weekends and holidays treated as `off_day` says."""
    if not rule:
        return [start] if window[0] <= start <= window[1] else []
    return sorted(i.day for i in instances(rule, start, exdates, off_day, window) if i.day is not None)


def is_bounded(rule: str) -> bool:
    recur = vRecur.from_ical(rule)
    return "UNTIL" in recur or "COUNT" in recur


def for_feed(rule: str, *, all_day: bool, start_time: time | None) -> vRecur:
    """The rule as the feed writes it: UNTIL as a DATE (all-day) or a UTC DATE-TIME (timed)."""
    recur = vRecur.from_ical(rule)
    if "UNTIL" in recur:
        until = recur["UNTIL"][0]
        until = until.date() if isinstance(until, datetime) else until
        if all_day:
            recur["UNTIL"] = [until]
        else:
            # The last occurrence may start at start_time on the UNTIL day: include that moment.
            last = datetime.combine(until, start_time or time(), tzinfo=TOKYO)
            recur["UNTIL"] = [last.astimezone(ZoneInfo("UTC"))]
    return recur


def describe(rule: str, off_day: str = "") -> str:
    """Japanese wording: 毎週水曜日（2025年7月23日まで）, 隔週月曜日, 毎月15日（土日・祝日は次の平日）."""
    if not rule:
        return ""
    recur = vRecur.from_ical(rule)
    freq = recur["FREQ"][0]
    interval = int(recur.get("INTERVAL", [1])[0])
    days = "・".join(WEEKDAY_JA.get(str(d)[-2:], str(d)) for d in recur.get("BYDAY", []))
    text = {
        "DAILY": "毎日" if interval == 1 else f"{interval}日ごと",
        "WEEKLY": "毎週" if interval == 1 else ("隔週" if interval == 2 else f"{interval}週ごと"),
        "MONTHLY": "毎月" if interval == 1 else f"{interval}か月ごと",
        "YEARLY": "毎年",
    }[freq]
    if days:
        text += f"{days}曜日"
    if freq == "MONTHLY" and "BYMONTHDAY" in recur:
        text += "・".join(str(d) for d in recur["BYMONTHDAY"]) + "日"
    notes = []
    if "UNTIL" in recur:
        until = recur["UNTIL"][0]
        until = until.date() if isinstance(until, datetime) else until
        notes.append(f"{until.year}年{until.month}月{until.day}日まで")
    elif "COUNT" in recur:
        notes.append(f"{recur['COUNT'][0]}回")
    if off_day:
        notes.append(OFF_DAY_JA[off_day])
    return text + (f"（{'、'.join(notes)}）" if notes else "")


def last_day(rule: str, start: date, exdates: Iterable[date] = (), off_day: str = "") -> date | None:
    """The last occurrence's start date, or None for a rule without an end."""
    if not rule:
        return start
    if not is_bounded(rule):
        return None
    if off_day:
        held = [i.day for i in instances(rule, start, exdates, off_day) if i.day is not None]
    else:
        held = _nominal_dates(rule, start, None, limit=MAX_OCCURRENCES * 10)
    return max(held) if held else None


def check_off_day(off_day: str, rule: str, start: date) -> None:
    """The weekend/holiday rule needs a recurring event whose series ends (so that every moved or
    skipped occurrence can be written into the feed) and has at most MAX_OCCURRENCES occurrences."""
    if off_day not in OFF_DAY_RULES:
        raise ParseError(format_lazy(_("土日・祝日の扱い「{off_day}」は使えません（空欄・とばす・前の平日・次の平日）"), off_day=off_day),
                         code="off_day_unknown")
    if not off_day:
        return
    if not rule:
        raise ParseError(_("土日・祝日の扱いは繰り返しの予定にだけ指定できます"),
                         code="off_day_not_repeating")
    if not is_bounded(rule):
        raise ParseError(_("土日・祝日の扱いを指定するときは、繰り返し終了日（または回数）を入れてください"),
                         code="off_day_unbounded")
    if len(_nominal_dates(rule, start, None, limit=MAX_OCCURRENCES + 1)) > MAX_OCCURRENCES:
        raise ParseError(format_lazy(_("土日・祝日の扱いを指定できるのは、{limit}回までの繰り返しです"), limit=MAX_OCCURRENCES),
                         code="off_day_too_many")
