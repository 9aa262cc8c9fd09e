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


DRILL = "FREQ=MONTHLY;UNTIL=20260315;BYMONTHDAY=15"  # the 15th, April 2025 to March 2026
YEAR = (date(2025, 4, 1), date(2026, 3, 31))


def test_without_a_weekend_rule_the_15th_falls_on_sundays_and_on_keiro_no_hi():
    days = recurrence.occurrence_starts(DRILL, date(2025, 4, 15), [], YEAR)
    assert date(2025, 6, 15) in days and date(2025, 9, 15) in days  # 日曜日, 敬老の日
    assert any(recurrence.is_day_off(d) for d in days)


@pytest.mark.parametrize("off_day, moved", [
    ("previous", {date(2025, 6, 13), date(2025, 9, 12), date(2025, 11, 14), date(2026, 2, 13), date(2026, 3, 13)}),
    ("next", {date(2025, 6, 16), date(2025, 9, 16), date(2025, 11, 17), date(2026, 2, 16), date(2026, 3, 16)}),
    ("skip", set()),
])
def test_an_occurrence_on_a_weekend_or_a_holiday_moves_or_is_skipped(off_day, moved):
    days = recurrence.occurrence_starts(DRILL, date(2025, 4, 15), [], YEAR, off_day)
    kept = {date(2025, m, 15) for m in (4, 5, 7, 8, 10, 12)} | {date(2026, 1, 15)}
    assert set(days) == kept | moved
    assert not any(recurrence.is_day_off(d) for d in days)


def test_a_move_steps_over_a_run_of_days_off():
    # 2025-05-03 (土) 憲法記念日, 4 (日) みどりの日, 5 (月) こどもの日, 6 (火) 振替休日
    rule = "FREQ=YEARLY;COUNT=1"
    assert recurrence.occurrence_starts(rule, date(2025, 5, 3), [], YEAR, "next") == [date(2025, 5, 7)]
    assert recurrence.occurrence_starts(rule, date(2025, 5, 6), [], YEAR, "previous") == [date(2025, 5, 2)]


def test_an_exdate_names_the_rules_date_or_the_day_it_moved_to():
    by_rule = recurrence.occurrence_starts(DRILL, date(2025, 4, 15), [date(2025, 6, 15)], YEAR, "previous")
    by_moved = recurrence.occurrence_starts(DRILL, date(2025, 4, 15), [date(2025, 6, 13)], YEAR, "previous")
    assert date(2025, 6, 13) not in by_rule and by_rule == by_moved and len(by_rule) == 11


def test_a_moved_occurrence_never_doubles_one_already_there():
    # Every day for a week, Saturday and Sunday moved to Monday: Monday is held once.
    rule = "FREQ=DAILY;UNTIL=20250616"
    series = recurrence.instances(rule, date(2025, 6, 9), [], "next")
    assert [i.day for i in series if i.day] == [date(2025, 6, d) for d in (9, 10, 11, 12, 13, 16)]
    assert {i.nominal for i in series if i.day is None} == {date(2025, 6, 14), date(2025, 6, 15)}


def test_the_window_sees_an_occurrence_that_moves_into_it():
    # 1 March 2026 is a Sunday: moved back to Friday 27 February.
    rule = "FREQ=MONTHLY;UNTIL=20260301;BYMONTHDAY=1"
    february = (date(2026, 2, 1), date(2026, 2, 28))
    assert recurrence.occurrence_starts(rule, date(2025, 4, 1), [], february, "previous") == [
        date(2026, 2, 27)]
    assert recurrence.occurrence_starts(rule, date(2025, 4, 1), [], (date(2026, 3, 1), date(2026, 3, 31)),
                                        "previous") == []


def test_the_weekend_rule_needs_a_series_that_ends():
    with pytest.raises(ParseError, match="繰り返しの予定にだけ"):
        recurrence.check_off_day("next", "", date(2025, 4, 15))
    with pytest.raises(ParseError, match="繰り返し終了日"):
        recurrence.check_off_day("next", "FREQ=MONTHLY;BYMONTHDAY=15", date(2025, 4, 15))
    with pytest.raises(ParseError, match="400回まで"):
        recurrence.check_off_day("next", "FREQ=DAILY;UNTIL=20271231", date(2025, 4, 15))
    recurrence.check_off_day("next", DRILL, date(2025, 4, 15))


def test_the_wording_says_what_happens_on_days_off():
    assert recurrence.describe(DRILL, "previous") == "毎月15日（2026年3月15日まで、土日・祝日は前の平日）"
    assert recurrence.describe(DRILL, "skip").endswith("土日・祝日は行わない）")
    assert recurrence.last_day(DRILL, date(2025, 4, 15), [], "previous") == date(2026, 3, 13)
