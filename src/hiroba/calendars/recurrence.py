"""Recurrence rules (RFC 5545 RRULE): validation, expansion for the month view, Japanese wording.

An event stores its rule without the `RRULE:` prefix and with UNTIL as a plain date
(`FREQ=WEEKLY;BYDAY=WE;UNTIL=20250723`); the feed writes UNTIL in the form RFC 5545 requires
for the event's DTSTART (a DATE for all-day events, a UTC DATE-TIME for timed ones).
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from icalendar.prop import vRecur

from hiroba.calendars.parsing import ParseError, normalize, parse_date

TOKYO = ZoneInfo("Asia/Tokyo")
ALLOWED_FREQ = {"DAILY", "WEEKLY", "MONTHLY", "YEARLY"}
WEEKDAY_CODES = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
WEEKDAY_JA = dict(zip(WEEKDAY_CODES, "月火水木金土日", strict=True))
# Shorthands a clerk can type in the 繰り返し column instead of an RRULE.
SHORTHANDS = {"毎日": "daily", "毎週": "weekly", "隔週": "biweekly", "毎月": "monthly"}
MAX_OCCURRENCES = 400


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
        raise ParseError(f"繰り返し「{kind}」は使えません（毎日・毎週・隔週・毎月、またはRRULE）")
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
            raise ParseError("繰り返し終了日がありますが、繰り返しが指定されていません")
        return ""
    if value in SHORTHANDS:
        rule = build(SHORTHANDS[value], start, until_date)
    else:
        value = value.upper().removeprefix("RRULE:")
        if "FREQ=" not in value:
            raise ParseError(f"繰り返し「{text}」を読めません（毎日・毎週・隔週・毎月、またはRRULE）")
        try:
            recur = vRecur.from_ical(value)
        except (ValueError, TypeError):
            raise ParseError(f"繰り返し「{text}」を読めません（毎週・隔週・毎月、またはRRULE）") from None
        freq = recur.get("FREQ", [None])[0]
        if freq not in ALLOWED_FREQ:
            raise ParseError(f"繰り返し「{text}」のFREQは DAILY・WEEKLY・MONTHLY・YEARLY のいずれかにしてください")
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
        raise ParseError(f"繰り返し「{text}」を読めません: {exc}") from None
    until_value = vRecur.from_ical(rule).get("UNTIL", [None])[0]
    if until_value is not None and until_value < start:
        raise ParseError("繰り返し終了日が開始日より前です")
    return rule


def occurrence_starts(rule: str, start: date, exdates: list[date], window: tuple[date, date]) -> list[date]:
    """Start dates of the occurrences between window[0] and window[1] (inclusive), EXDATEs removed."""
    if not rule:
        return [start] if window[0] <= start <= window[1] else []
    recurrence = rrulestr(rule, dtstart=datetime.combine(start, time()))
    lower = datetime.combine(window[0], time())
    upper = datetime.combine(window[1], time())
    skipped = set(exdates)
    days = []
    for moment in recurrence.between(lower, upper, inc=True):
        if moment.date() not in skipped:
            days.append(moment.date())
        if len(days) >= MAX_OCCURRENCES:
            break
    return days


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


def describe(rule: str) -> str:
    """Japanese wording: 毎週水曜日（2025年7月23日まで）, 隔週月曜日, 毎月15日."""
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
    if "UNTIL" in recur:
        until = recur["UNTIL"][0]
        until = until.date() if isinstance(until, datetime) else until
        text += f"（{until.year}年{until.month}月{until.day}日まで）"
    elif "COUNT" in recur:
        text += f"（{recur['COUNT'][0]}回）"
    return text


def last_day(rule: str, start: date) -> date | None:
    """The last occurrence's start date, or None for a rule without an end."""
    if not rule:
        return start
    recurrence = rrulestr(rule, dtstart=datetime.combine(start, time()))
    recur = vRecur.from_ical(rule)
    if "UNTIL" not in recur and "COUNT" not in recur:
        return None
    last = None
    for index, moment in enumerate(recurrence):
        last = moment.date()
        if index > MAX_OCCURRENCES * 10:
            break
    return last

