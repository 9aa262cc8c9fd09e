"""Public pages: month and list views per school and per family, subscription links, exports."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, time

import pytest
import time_machine

from hiroba.calendars import exports, sample, services
from hiroba.calendars.models import Combination
from tests.calendars.conftest import calendar_of


@pytest.fixture
def year(school):
    services.import_apply(actor="test", batch=services.import_preview(
        actor="test", school=school, filename="t.xlsx", content=sample.as_xlsx()))
    return school


def test_the_index_lists_schools_and_offers_the_family_calendar(client, school, other_school):
    page = client.get("/calendars/").content.decode()
    assert "千代田区立麹町小学校" in page and "千代田区立番町小学校" in page
    assert 'href="/calendars/family/"' in page


def test_the_month_view_shows_events_holidays_and_terms(client, year, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        response = client.get("/calendars/kojimachi/?month=2025-04")
    page = response.content.decode()
    assert "令和7年4月（2025年4月）" in page
    assert "始業式" in page and "入学式" in page
    assert "昭和の日" in page  # jpholiday
    assert "1学期: 4月7日（月）〜7月18日（金）" in page
    assert page.count("クラブ活動") == 2 * 2  # 4/16, 4/23 (4/30 is an exception), in grid and phone list
    assert 'calendars/calendars.css' in page


def test_the_month_view_of_one_calendar_shows_only_its_events(client, year):
    page = client.get("/calendars/kojimachi/?cal=g1&month=2025-04").content.decode()
    assert "入学式" in page and "保護者会（1年）" in page
    assert "保護者会（2年）" not in page and "始業式" not in page
    assert client.get("/calendars/kojimachi/?cal=g9").status_code == 404


def test_the_school_page_offers_webcal_https_and_a_qr_code_for_every_calendar(client, year):
    page = client.get("/calendars/kojimachi/?month=2025-04").content.decode()
    assert 'href="webcal://testserver/calendars/kojimachi/all/feed.ics"' in page
    assert "http://testserver/calendars/kojimachi/g1/feed.ics" in page
    assert 'src="/calendars/kojimachi/g1-c1/qr.svg"' in page
    assert "calendar.google.com/calendar/render?cid=webcal" in page
    qr = client.get("/calendars/kojimachi/all/qr.svg")
    assert qr["Content-Type"] == "image/svg+xml"
    assert qr.content.startswith(b"<svg") and b"<script" not in qr.content


def test_a_cancelled_event_is_shown_as_cancelled(client, school, make_event):
    event = make_event("プール開放", start=date(2025, 8, 1))
    services.event_cancel(actor="test", event=event)
    page = client.get("/calendars/kojimachi/?month=2025-08").content.decode()
    assert re.search(r"中止</strong>.*プール開放", page, re.S)


def test_the_list_view_shows_the_school_year_month_by_month(client, year):
    page = client.get("/calendars/kojimachi/list/?year=2025").content.decode()
    assert "2025年4月" in page and "2026年3月" in page
    assert page.index("始業式") < page.index("卒業式")
    assert "夏季休業日" in page and "7月19日（土）〜8月31日（日）" in page
    empty = client.get("/calendars/kojimachi/list/?year=2030").content.decode()
    assert "予定はありません" in empty


def test_the_default_month_is_this_month_in_tokyo(client, school, make_event):
    make_event("始業式", start=date(2025, 9, 1))
    with time_machine.travel("2025-08-31 15:30:00+00:00"):  # 2025-09-01 00:30 in Tokyo
        page = client.get("/calendars/kojimachi/").content.decode()
    assert "令和7年9月" in page and "始業式" in page


def test_a_family_picks_calendars_once_and_gets_one_stable_url(client, school, other_school, make_event):
    make_event("遠足（2年）", label="2年", start=date(2025, 5, 9))
    make_event("運動会", on=other_school, start=date(2025, 5, 31))
    picked = [calendar_of(school, "全校").pk, calendar_of(school, "2年").pk, calendar_of(other_school, "全校").pk]
    response = client.post("/calendars/family/", {"calendars": picked})
    assert response.status_code == 302
    again = client.post("/calendars/family/", {"calendars": list(reversed(picked))})
    assert again["Location"] == response["Location"]
    assert Combination.objects.count() == 1
    page = client.get(response["Location"] + "?month=2025-05").content.decode()
    assert "遠足（2年）" in page and "運動会" in page
    assert "麹町小 2年" in page and "番町小" in page
    assert "webcal://testserver/calendars/my/" in page
    listing = client.get(response["Location"] + "list/?year=2025").content.decode()
    assert "遠足（2年）" in listing


def test_the_family_form_requires_a_choice(client, school):
    page = client.post("/calendars/family/", {}).content.decode()
    assert "1つ以上選んでください" in page


def test_the_school_csv_uses_the_template_columns_and_can_be_reimported(client, year):
    response = client.get("/calendars/kojimachi/events.csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    body = response.content
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:5] == ["ID", "対象", "区分", "件名", "開始日"]
    assert len(rows) - 1 == 61
    batch = services.import_preview(actor="test", school=year, filename="back.csv", content=body)
    assert batch.errors == []
    applied = services.import_apply(actor="test", batch=batch)
    assert applied.summary["unchanged"] == 61 and applied.summary["updated"] == 0


def test_the_open_data_csv_has_the_event_list_columns(client, year):
    response = client.get("/calendars/opendata/event_list.csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert list(rows[0].keys()) == exports.OPEN_DATA_COLUMNS
    first = next(r for r in rows if r["イベント名"] == "千代田区立麹町小学校 始業式")
    assert first["都道府県コード又は市区町村コード"] == "131016"
    assert (first["都道府県名"], first["市区町村名"]) == ("東京都", "千代田区")
    assert (first["開始日"], first["開始時間"], first["終了時間"]) == ("2025-04-07", "08:30", "10:00")
    assert first["住所"] == "東京都千代田区麹町二丁目8番"
    club = next(r for r in rows if "クラブ活動" in r["イベント名"] and r["開始日"] == "2025-04-16")
    assert club["終了日"] == "2025-07-16"
    assert club["開始日時特記事項"].startswith("毎週水曜日（2025年7月16日まで）（4月30日、5月7日、6月18日を除く）")


def test_municipality_codes_carry_their_check_digit():
    assert exports.with_check_digit("13101") == "131016"  # 千代田区
    assert exports.with_check_digit("13104") == "131041"  # 新宿区
    assert exports.with_check_digit("13113") == "131130"  # 渋谷区


def test_a_timed_event_shows_its_time_in_the_list(client, school, make_event):
    make_event("個人面談", start=date(2025, 7, 14), start_time=time(13, 30), end_time=time(16, 0))
    page = client.get("/calendars/kojimachi/list/?year=2025").content.decode()
    assert "13:30〜16:00" in page


def test_a_finished_school_year_opens_on_its_last_month_not_an_empty_page(client, db):
    import time_machine

    from hiroba.calendars import demo

    demo.load(lambda line: None)
    school = __import__("hiroba.calendars.models", fromlist=["School"]).School.objects.order_by("pk").first()
    with time_machine.travel("2027-11-28 10:00 +09:00"):
        response = client.get(f"/calendars/{school.slug}/")
    assert response.status_code == 200
    assert response.context["month"] != 11 or response.context["year"] != 2027
    assert any(day_items for week in response.context["weeks"] for day_items in [getattr(d, "items", None) for d in week])
