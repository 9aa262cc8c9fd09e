"""Dates and times as schools write them (西暦, 和暦, Excel cells, full-width digits)."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hiroba.calendars.parsing import ParseError, parse_date, parse_date_list, parse_time
from hiroba.core.dates import wareki


@pytest.mark.parametrize("text", [
    "2025-04-07", "2025/4/7", "2025/04/07", "2025年4月7日", "2025.4.7", "令和7年4月7日", "令和７年４月７日",
    "R7.4.7", "r7/4/7", "R7年4月7日", "令和7年4月7日（月）", "2025/4/7(月)", " 2025 年 4 月 7 日 ",
    "2025-04-07 00:00:00",
])
def test_it_reads_the_ways_schools_write_a_date(text):
    assert parse_date(text) == date(2025, 4, 7)


def test_it_reads_the_first_year_of_an_era_written_gannen():
    assert parse_date("令和元年5月1日") == date(2019, 5, 1)
    assert parse_date("平成31年4月30日") == date(2019, 4, 30)


def test_it_reads_excel_date_cells_and_serial_numbers():
    assert parse_date(datetime(2025, 4, 7, 0, 0)) == date(2025, 4, 7)
    assert parse_date(date(2025, 4, 7)) == date(2025, 4, 7)
    assert parse_date(45754) == date(2025, 4, 7)


@pytest.mark.parametrize("text, message", [
    ("2025年2月30日", "という日付はありません"),
    ("令和7年2月29日", "という日付はありません"),
    ("2025/13/1", "という日付はありません"),
    ("令和元年4月1日", "令和の期間にない日付です"),
    ("平成32年1月1日", "平成の期間にない日付です"),
    ("4月7日", "年がありません"),
    ("来週の月曜", "日付として読めません"),
    ("", "日付が空です"),
    (12, "日付として読めません"),
])
def test_it_explains_in_japanese_why_a_date_is_wrong(text, message):
    with pytest.raises(ParseError, match=message):
        parse_date(text)


@pytest.mark.parametrize("text, expected", [
    ("8:30", time(8, 30)), ("08:30:00", time(8, 30)), ("８：３０", time(8, 30)), ("13時", time(13, 0)),
    ("8時30分", time(8, 30)), ("午後1時", time(13, 0)), ("午前11時半", time(11, 30)), ("午後12時", time(12, 0)),
    ("午後1:15", time(13, 15)), (0.5, time(12, 0)), (time(9, 5), time(9, 5)), ("", None), (None, None),
])
def test_it_reads_times(text, expected):
    assert parse_time(text) == expected


@pytest.mark.parametrize("text", ["25:00", "8:75", "午後13時", "朝", 1.5])
def test_it_rejects_impossible_times(text):
    with pytest.raises(ParseError, match="時刻として読めません"):
        parse_time(text)


def test_it_reads_a_list_of_dates_in_mixed_forms():
    assert parse_date_list("2025/4/30、令和7年5月7日\n2025-06-18") == [
        date(2025, 4, 30), date(2025, 5, 7), date(2025, 6, 18)]
    assert parse_date_list("") == []


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2099, 12, 31)))
def test_a_date_written_in_wareki_reads_back_as_the_same_day(day):
    assert parse_date(wareki(day)) == day


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2099, 12, 31)), st.sampled_from(["/", "-", "."]))
def test_a_date_written_in_seireki_reads_back_as_the_same_day(day, sep):
    assert parse_date(f"{day.year}{sep}{day.month}{sep}{day.day}") == day


@given(st.text(max_size=30))
def test_any_text_either_reads_as_a_date_or_fails_with_a_parse_error(text):
    try:
        result = parse_date(text)
    except ParseError as exc:
        assert str(exc)
    else:
        assert isinstance(result, date)
