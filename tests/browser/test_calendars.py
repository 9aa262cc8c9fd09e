"""School calendars in Chromium: a family subscribes from the school page, prints the month for
the fridge, reads it on a phone; staff import a file. axe checks every page."""

from __future__ import annotations

import re
from datetime import date

import icalendar
import pytest
import recurring_ical_events
from django.test import Client

from hiroba.accounts.models import Role
from hiroba.calendars import sample, services
from hiroba.calendars.models import School
from hiroba.core.models import Department
from tests.browser.conftest import assert_accessible

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def school(departments) -> School:
    kyoiku = Department.objects.create(code="kyoiku", name="教育委員会事務局")
    departments["kojimachi-es"] = Department.objects.create(code="kojimachi-es", name="麹町小学校", parent=kyoiku)
    school = services.school_create(
        actor="test", department=departments["kojimachi-es"], slug="kojimachi", name="千代田区立麹町小学校",
        short_name="麹町小", kind=School.Kind.ELEMENTARY, classes_per_grade=2,
    )
    batch = services.import_preview(actor="test", school=school, filename="t.xlsx", content=sample.as_xlsx())
    services.import_apply(actor="test", batch=batch)
    return school


def test_a_family_subscribes_from_the_school_page(page, school):
    page.goto("/calendars/")
    assert_accessible(page)
    page.get_by_role("link", name="千代田区立麹町小学校").click()
    page.wait_for_url("**/calendars/kojimachi/")
    page.goto("/calendars/kojimachi/?month=2025-05")
    assert page.locator("caption").first.inner_text().startswith("令和7年5月")
    assert "運動会" in page.locator("table.cal-month").inner_text()
    assert_accessible(page)

    subscribe = page.locator(".cal-subscribe").first
    webcal = subscribe.get_by_role("link", name="カレンダーアプリで購読").get_attribute("href")
    feed_url = subscribe.locator("a.cal-feed-url").get_attribute("href")
    assert webcal == "webcal://" + feed_url.split("://", 1)[1]
    qr = subscribe.locator("img.cal-qr")
    assert qr.get_attribute("alt").endswith("購読用QRコード")
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")

    response = page.request.get(feed_url)
    assert response.status == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    calendar = icalendar.Calendar.from_ical(response.body())
    events = list(calendar.walk("VEVENT"))
    assert {str(e["SUMMARY"]) for e in events} >= {"始業式", "運動会", "夏季休業日"}
    may = recurring_ical_events.of(calendar).between(date(2025, 5, 1), date(2025, 6, 1))
    assert "運動会" in {str(e["SUMMARY"]) for e in may}
    again = page.request.get(feed_url, headers={"If-None-Match": response.headers["etag"]})
    assert again.status == 304


def test_a_family_combines_two_children_into_one_feed(page, school):
    page.goto("/calendars/family/")
    assert_accessible(page)
    page.get_by_label("全校").check()
    page.get_by_label("1年", exact=True).check()
    page.get_by_label("4年", exact=True).check()
    page.get_by_role("button", name="この組み合わせのカレンダーを見る").click()
    page.wait_for_url(re.compile(r".*/calendars/my/[^/]+/$"))
    family_url = page.url
    page.goto(family_url + "?month=2025-04")
    text = page.locator("table.cal-month").inner_text()
    assert "入学式" in text and "保護者会（4年）" in text and "保護者会（2年）" not in text
    assert_accessible(page)
    feed = page.request.get(page.locator("a.cal-feed-url").get_attribute("href"))
    summaries = {str(e["SUMMARY"]) for e in icalendar.Calendar.from_ical(feed.body()).walk("VEVENT")}
    assert "【1年】入学式" in summaries and "始業式" in summaries
    page.goto(family_url + "list/?year=2025")
    assert_accessible(page)
    # the same choice, made again, gives the same address
    page.goto("/calendars/family/")
    for label in ("全校", "1年", "4年"):
        page.get_by_label(label, exact=True).check()
    page.get_by_role("button", name="この組み合わせのカレンダーを見る").click()
    page.wait_for_url(family_url)


def test_the_month_prints_on_one_a4_page(page, school):
    page.goto("/calendars/kojimachi/?month=2025-04")
    page.emulate_media(media="print")
    assert not page.locator(".cal-subscriptions").is_visible()
    assert page.locator("table.cal-month").is_visible()
    assert _pdf_pages(page.pdf(format="A4", prefer_css_page_size=True)) == 1
    # the counter does count: the whole year's list runs over several sheets
    page.goto("/calendars/kojimachi/list/?year=2025")
    assert _pdf_pages(page.pdf(format="A4", prefer_css_page_size=True)) > 1


def _pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf))


def test_a_phone_shows_the_month_as_a_list(page, school):
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto("/calendars/kojimachi/?month=2025-04")
    assert not page.locator("table.cal-month").is_visible()
    agenda = page.locator(".cal-agenda")
    assert agenda.is_visible() and "4月7日（月）" in agenda.inner_text()
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 375
    assert_accessible(page)
    page.goto("/calendars/kojimachi/list/?year=2025")
    assert_accessible(page)


def test_staff_pages_are_accessible(page, live_server, school, make_staff):
    staff = make_staff(email="kyomu@kojimachi.example.jp", department="kojimachi-es", role=Role.HANDLE)
    client = Client()
    client.force_login(staff.user)
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                               "url": live_server.url}])
    page.goto("/staff/calendars/")
    assert_accessible(page)
    page.get_by_role("link", name="千代田区立麹町小学校").click()
    page.wait_for_url("**/staff/calendars/kojimachi/")
    assert_accessible(page)
    page.get_by_role("link", name="予定を追加").click()
    page.get_by_role("button", name="保存").click()
    assert page.get_by_role("alert").is_visible()
    assert_accessible(page)
    page.goto("/staff/calendars/kojimachi/import/")
    page.set_input_files("input[type=file]", files=[{
        "name": "bad.csv", "mimeType": "text/csv",
        "buffer": "ID,対象,件名,開始日\r\n,全校,始業式,2025年2月30日\r\n".encode(),
    }])
    page.get_by_role("button", name="確認する").click()
    page.wait_for_url(re.compile(r".*/import/\d+/$"))
    assert "「2025年2月30日」という日付はありません" in page.get_by_role("alert").inner_text()
    assert_accessible(page)
