from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from hiroba.core import dates


@pytest.mark.parametrize(("day", "expected"), [
    (date(2025, 3, 13), "令和7年3月13日 (2025年3月13日)"),
    (date(2019, 5, 1), "令和元年5月1日 (2019年5月1日)"),
    (date(2019, 4, 30), "平成31年4月30日 (2019年4月30日)"),
    (date(1989, 1, 8), "平成元年1月8日 (1989年1月8日)"),
    (date(1989, 1, 7), "昭和64年1月7日 (1989年1月7日)"),
])
def test_it_writes_wareki_beside_seireki(day, expected):
    assert dates.wareki_with_seireki(day) == expected


def test_it_takes_the_day_in_tokyo_for_aware_datetimes():
    utc_evening = datetime(2025, 1, 20, 15, 30, tzinfo=ZoneInfo("UTC"))  # 00:30 on the 21st in Tokyo
    assert dates.wareki(utc_evening) == "令和7年1月21日"


def test_the_template_filter_follows_the_language():
    template = Template("{% load hiroba %}{{ d|wareki }}")
    assert template.render(Context({"d": date(2025, 3, 13)})) == "令和7年3月13日 (2025年3月13日)"
    with translation.override("en"):
        assert template.render(Context({"d": date(2025, 3, 13)})) == "13 March 2025 (Reiwa 7)"


def test_weekday():
    assert dates.wareki(date(2025, 3, 13), with_weekday=True) == "令和7年3月13日（木）"


@given(st.dates(min_value=date(1873, 1, 1), max_value=date(2200, 12, 31)))
def test_every_day_has_exactly_one_era_and_a_positive_year(day):
    name, year, _ = dates.era_of(day)
    assert year >= 1
    start = next(s for s, n, _ in dates.ERAS if n == name)
    assert start.year + year - 1 == day.year


def test_it_refuses_days_before_1873():
    with pytest.raises(ValueError):
        dates.era_of(date(1872, 12, 31))
