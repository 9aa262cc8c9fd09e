"""RRULE handling: shorthands, validation, expansion with EXDATE, Japanese wording."""

from __future__ import annotations

from datetime import date, time

import pytest

from hiroba.calendars import recurrence
from hiroba.calendars.parsing import ParseError


def test_shorthands_become_rrules_on_the_start_days_weekday():
    start = date(2025, 4, 16)  # a Wednesday
    assert recurrence.parse("毎週", start=start, until="2025/7/16") == "FREQ=WEEKLY;UNTIL=20250716;BYDAY=WE"
    assert recurrence.parse("隔週", start=start) == "FREQ=WEEKLY;INTERVAL=2;BYDAY=WE"
    assert recurrence.parse("毎月", start=start) == "FREQ=MONTHLY;BYMONTHDAY=16"


def test_an_rrule_with_a_utc_until_is_stored_with_its_tokyo_date():
    assert recurrence.parse("RRULE:FREQ=WEEKLY;BYDAY=WE;UNTIL=20250716T145959Z", start=date(2025, 4, 16)) \
        == "FREQ=WEEKLY;UNTIL=20250716;BYDAY=WE"


@pytest.mark.parametrize("text, message", [
    ("毎時", "読めません"), ("FREQ=HOURLY", "FREQは"), ("FREQ=WEEKLY;BYDAY=XX", "読めません"),
])
def test_bad_rules_are_explained(text, message):
    with pytest.raises(ParseError, match=message):
        recurrence.parse(text, start=date(2025, 4, 16))


def test_an_until_before_the_start_is_refused():
    with pytest.raises(ParseError, match="開始日より前"):
        recurrence.parse("毎週", start=date(2025, 4, 16), until="2025/4/1")


def test_expansion_leaves_out_exdates_and_stays_in_the_window():
    rule = "FREQ=WEEKLY;UNTIL=20250716;BYDAY=WE"
    days = recurrence.occurrence_starts(rule, date(2025, 4, 16), [date(2025, 4, 30)], (date(2025, 4, 1), date(2025, 5, 14)))
    assert days == [date(2025, 4, 16), date(2025, 4, 23), date(2025, 5, 7), date(2025, 5, 14)]


def test_the_feed_writes_until_as_a_date_or_a_utc_moment():
    rule = "FREQ=WEEKLY;UNTIL=20250716;BYDAY=WE"
    assert recurrence.for_feed(rule, all_day=True, start_time=None).to_ical() == b"FREQ=WEEKLY;UNTIL=20250716;BYDAY=WE"
    assert recurrence.for_feed(rule, all_day=False, start_time=time(14, 35)).to_ical() == \
        b"FREQ=WEEKLY;UNTIL=20250716T053500Z;BYDAY=WE"


def test_rules_are_described_in_japanese():
    assert recurrence.describe("FREQ=WEEKLY;UNTIL=20250716;BYDAY=WE") == "毎週水曜日（2025年7月16日まで）"
    assert recurrence.describe("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO") == "隔週月曜日"
    assert recurrence.describe("FREQ=MONTHLY;BYMONTHDAY=15;COUNT=10") == "毎月15日（10回）"
    assert recurrence.last_day("FREQ=MONTHLY;BYMONTHDAY=15;COUNT=3", date(2025, 4, 15)) == date(2025, 6, 15)
