"""The iCalendar feeds: valid RFC 5545 that three independent parsers read the same way."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
import jpholiday
import pytest
import recurring_ical_events
import time_machine
import vobject
from django.utils.http import http_date

from hiroba.calendars import sample, services
from hiroba.calendars.models import CANCELLED_RETENTION, Event
from tests.calendars.conftest import calendar_of

TOKYO = ZoneInfo("Asia/Tokyo")


def fetch(client, url: str, **headers):
    return client.get(url, **headers)


def vevents(body: bytes) -> list[icalendar.Event]:
    return list(icalendar.Calendar.from_ical(body).walk("VEVENT"))


@pytest.fixture
def year(school):
    batch = services.import_preview(actor="test", school=school, filename="t.xlsx", content=sample.as_xlsx())
    services.import_apply(actor="test", batch=batch)
    return school


def test_the_feed_is_calendar_text_in_utf8_with_calendar_metadata(client, school, make_event):
    make_event()
    response = fetch(client, "/calendars/kojimachi/all/feed.ics")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    cal = icalendar.Calendar.from_ical(response.content)
    assert cal["VERSION"] == "2.0"
    assert cal["METHOD"] == "PUBLISH"
    assert cal["X-WR-CALNAME"] == "千代田区立麹町小学校 全校" == cal["NAME"]
    assert cal["REFRESH-INTERVAL"].dt == timedelta(hours=6)
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT6H" in response.content.decode()
    assert cal["X-PUBLISHED-TTL"] == "PT6H"
    assert response.content.count(b"\r\n") > 10  # CRLF line endings


def test_all_day_events_are_dates_with_an_exclusive_end(client, school, make_event):
    make_event("夏季休業日", start=date(2025, 7, 19), end=date(2025, 8, 31), category="holiday")
    (event,) = vevents(fetch(client, "/calendars/kojimachi/all/feed.ics").content)
    assert event["DTSTART"].dt == date(2025, 7, 19)
    assert event["DTEND"].dt == date(2025, 9, 1)
    assert "DTSTART;VALUE=DATE:20250719" in event.to_ical().decode()
    assert event["TRANSP"] == "TRANSPARENT"
    assert [str(c) for c in event["CATEGORIES"].cats] == ["休業日"]


def test_timed_events_carry_tzid_asia_tokyo_and_its_vtimezone(client, school, make_event):
    make_event("始業式", start=date(2025, 4, 7), start_time=time(8, 30), end_time=time(10, 0))
    body = fetch(client, "/calendars/kojimachi/all/feed.ics").content
    cal = icalendar.Calendar.from_ical(body)
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["Asia/Tokyo"]
    assert "DTSTART;TZID=Asia/Tokyo:20250407T083000" in body.decode()
    (event,) = cal.walk("VEVENT")
    assert event["DTSTART"].dt == datetime(2025, 4, 7, 8, 30, tzinfo=TOKYO)
    assert event["DTEND"].dt.astimezone(ZoneInfo("UTC")) == datetime(2025, 4, 7, 1, 0, tzinfo=ZoneInfo("UTC"))


def _expanded(body: bytes, start: date, end: date) -> set[tuple[str, str]]:
    cal = icalendar.Calendar.from_ical(body)
    return {
        (str(e["UID"]), e["DTSTART"].dt.isoformat()[:10])
        for e in recurring_ical_events.of(cal).between(start, end)
    }


def _vobject_expanded(body: bytes, start: date, end: date) -> set[tuple[str, str]]:
    found = set()
    for component in vobject.readComponents(body.decode()):
        # RFC 5545 3.8.4.4: a VEVENT with RECURRENCE-ID replaces that occurrence of its UID's series.
        replaced = {(v.uid.value, v.recurrence_id.value) for v in component.vevent_list
                    if hasattr(v, "recurrence_id")}
        for vevent in component.vevent_list:
            first = vevent.dtstart.value
            length = vevent.dtend.value - first
            ruleset = None if hasattr(vevent, "recurrence_id") else vevent.getrruleset(addRDate=True)
            starts = list(ruleset) if ruleset is not None else [first]
            if ruleset is not None:
                starts = [o for o in starts if (vevent.uid.value, o if isinstance(first, datetime) else o.date())
                          not in replaced]
            for occurrence in starts:
                day = occurrence.date() if isinstance(occurrence, datetime) else occurrence
                last = (occurrence + length)
                last_day = last.date() if isinstance(last, datetime) else last
                is_all_day = not isinstance(first, datetime)
                # an occurrence touches [start, end) when it starts before end and ends after start
                if day < end and (last_day > start if is_all_day else last_day >= start):
                    found.add((vevent.uid.value, day.isoformat()))
    return found


def test_three_independent_parsers_read_the_same_events(client, year):
    body = fetch(client, "/calendars/kojimachi/feed.ics").content
    # 1. icalendar: every VEVENT, exactly the school's events
    uids = {str(e["UID"]) for e in vevents(body)}
    assert uids == set(Event.objects.filter(school=year).values_list("uid", flat=True))
    assert len(uids) == len(sample.rows()) - 3
    # 2. recurring-ical-events and 3. vobject (its own RRULE/EXDATE/VTIMEZONE handling): the same
    # occurrences, recurring events expanded with their exceptions left out.
    window = (date(2025, 4, 1), date(2026, 4, 1))
    by_recurring = _expanded(body, *window)
    by_vobject = _vobject_expanded(body, *window)
    assert by_recurring == by_vobject
    club = Event.objects.get(school=year, ref="R7-006")
    club_days = sorted(d for uid, d in by_recurring if uid == club.uid)
    assert club_days[0] == "2025-04-16" and club_days[-1] == "2025-07-16"
    assert "2025-04-30" not in club_days and "2025-06-18" not in club_days  # EXDATE
    assert len(club_days) == 14 - 3
    # and the same as the month view's own expansion
    from hiroba.calendars import queries
    ours = {(o.event.uid, o.start.isoformat()) for o in queries.occurrences(year.calendars.all(), date(2025, 4, 1), date(2026, 3, 31))}
    assert ours == by_recurring


def test_a_timed_recurring_event_ends_its_rule_with_a_utc_until(client, school, make_event):
    make_event("クラブ活動", start=date(2025, 4, 16), start_time=time(14, 35), end_time=time(15, 20),
               rrule="FREQ=WEEKLY;UNTIL=20250716;BYDAY=WE", exdates=[date(2025, 4, 30)])
    body = fetch(client, "/calendars/kojimachi/all/feed.ics").content.decode()
    assert "RRULE:FREQ=WEEKLY;UNTIL=20250716T053500Z;BYDAY=WE" in body
    assert "EXDATE;TZID=Asia/Tokyo:20250430T143500" in body
    days = sorted(d for _, d in _expanded(body.encode(), date(2025, 4, 1), date(2025, 8, 1)))
    assert days[-1] == "2025-07-16" and "2025-04-30" not in days


def test_a_change_keeps_the_uid_and_raises_the_sequence(client, school, make_event):
    event = make_event("運動会")
    (before,) = vevents(fetch(client, "/calendars/kojimachi/all/feed.ics").content)
    data = services.EventData(calendar=event.calendar, title="運動会", start_date=date(2025, 5, 31),
                              end_date=date(2025, 5, 31))
    with time_machine.travel(datetime.now(tz=TOKYO) + timedelta(minutes=5)):
        assert services.event_update(actor="test", event=event, data=data)
    (after,) = vevents(fetch(client, "/calendars/kojimachi/all/feed.ics").content)
    assert after["UID"] == before["UID"]
    assert after["SEQUENCE"] == before["SEQUENCE"] + 1 == 1
    assert after["DTSTART"].dt == date(2025, 5, 31)
    assert after["DTSTAMP"].dt > before["DTSTAMP"].dt
    assert after["LAST-MODIFIED"].dt == after["DTSTAMP"].dt


def test_a_conditional_get_returns_304_until_something_changes(client, school, make_event):
    event = make_event()
    url = "/calendars/kojimachi/all/feed.ics"
    first = fetch(client, url)
    etag, modified = first["ETag"], first["Last-Modified"]
    assert etag.startswith('"') and modified
    again = fetch(client, url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == etag
    assert fetch(client, url, HTTP_IF_MODIFIED_SINCE=modified).status_code == 304
    with time_machine.travel(datetime.now(tz=TOKYO) + timedelta(minutes=5)):
        services.event_cancel(actor="test", event=event)
    changed = fetch(client, url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert fetch(client, url, HTTP_IF_MODIFIED_SINCE=modified).status_code == 200


def test_the_same_data_gives_the_same_bytes(client, school, make_event):
    make_event()
    assert fetch(client, "/calendars/kojimachi/all/feed.ics").content == fetch(client, "/calendars/kojimachi/all/feed.ics").content


def test_cancelled_events_are_published_as_cancelled_then_leave_the_feed(client, school, make_event):
    event = make_event("プール開放")
    start = datetime.now(tz=TOKYO).replace(microsecond=0) + timedelta(days=1)
    with time_machine.travel(start, tick=False):
        services.event_cancel(actor="test", event=event, reason="雨天")
    with time_machine.travel(start + CANCELLED_RETENTION - timedelta(days=1), tick=False):
        response = fetch(client, "/calendars/kojimachi/all/feed.ics")
        (published,) = vevents(response.content)
        assert published["STATUS"] == "CANCELLED"
        assert published["SEQUENCE"] == 1
        modified = response["Last-Modified"]
    with time_machine.travel(start + CANCELLED_RETENTION + timedelta(days=1), tick=False):
        response = fetch(client, "/calendars/kojimachi/all/feed.ics", HTTP_IF_MODIFIED_SINCE=modified)
        assert response.status_code == 200  # leaving the feed is a change, too
        assert vevents(response.content) == []
        assert response["Last-Modified"] == http_date((start + CANCELLED_RETENTION).timestamp())


def test_moving_an_event_to_another_calendar_changes_the_old_feed(client, school, make_event):
    event = make_event("遠足", label="全校")
    first = fetch(client, "/calendars/kojimachi/all/feed.ics")
    data = services.EventData(calendar=calendar_of(school, "2年"), title="遠足", start_date=event.start_date,
                              end_date=event.end_date)
    with time_machine.travel(datetime.now(tz=TOKYO) + timedelta(minutes=5)):
        services.event_update(actor="test", event=event, data=data)
    old = fetch(client, "/calendars/kojimachi/all/feed.ics", HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert old.status_code == 200 and vevents(old.content) == []
    (moved,) = vevents(fetch(client, "/calendars/kojimachi/g2/feed.ics").content)
    assert moved["UID"] == event.uid


def test_a_family_feed_combines_schools_and_labels_each_event(client, school, other_school, make_event):
    make_event("始業式", label="全校")
    make_event("遠足（2年）", label="2年", start=date(2025, 5, 9))
    make_event("運動会", label="全校", on=other_school, start=date(2025, 5, 31))
    make_event("学年だより配布", label="3年", start=date(2025, 5, 1))  # not chosen
    combo = services.combination_get_or_create(calendars=[
        calendar_of(school, "全校"), calendar_of(school, "2年"), calendar_of(other_school, "全校")])
    body = fetch(client, f"/calendars/my/{combo.token}/feed.ics").content
    summaries = sorted(str(e["SUMMARY"]) for e in vevents(body))
    assert summaries == ["【番町小】運動会", "【麹町小 2年】遠足（2年）", "【麹町小】始業式"]
    assert icalendar.Calendar.from_ical(body)["X-WR-CALNAME"] == "家族の学校カレンダー"


def test_links_are_published_as_url_and_attachment(client, school, make_event):
    make_event("運動会", url="https://www.example.jp/undokai.pdf", url_label="実施要項")
    (event,) = vevents(fetch(client, "/calendars/kojimachi/all/feed.ics").content)
    assert str(event["URL"]) == "https://www.example.jp/undokai.pdf"
    assert str(event["ATTACH"]) == "https://www.example.jp/undokai.pdf"
    assert "実施要項: https://www.example.jp/undokai.pdf" in str(event["DESCRIPTION"])


def test_unknown_and_unpublished_calendars_are_404(client, school):
    assert fetch(client, "/calendars/kojimachi/g9/feed.ics").status_code == 404
    assert fetch(client, "/calendars/nowhere/all/feed.ics").status_code == 404
    assert fetch(client, "/calendars/my/not-a-token/feed.ics").status_code == 404
    school.is_published = False
    school.save()
    assert fetch(client, "/calendars/kojimachi/all/feed.ics").status_code == 404


class TestAClassFeedCarriesWhatConcernsTheClass:
    """A parent who subscribes to 1年1組 alone gets 全校 and 1年 events too, unless they opt out."""

    @pytest.fixture
    def events(self, school, make_event):
        make_event("運動会", label="全校", start=date(2025, 5, 24))
        make_event("入学式", label="1年", start=date(2025, 4, 8))
        make_event("授業参観", label="1年1組", start=date(2025, 6, 20))
        make_event("遠足", label="2年", start=date(2025, 5, 9))
        make_event("学級閉鎖のお知らせ", label="1年2組", start=date(2025, 6, 2))
        return school

    @staticmethod
    def summaries(body: bytes) -> set[str]:
        return {str(e["SUMMARY"]) for e in vevents(body)}

    def test_a_class_feed_includes_the_school_wide_and_its_grades_events(self, client, events):
        body = fetch(client, "/calendars/kojimachi/g1-c1/feed.ics").content
        assert self.summaries(body) == {"授業参観", "【全校】運動会", "【1年】入学式"}
        cal = icalendar.Calendar.from_ical(body)
        assert cal["NAME"] == "千代田区立麹町小学校 1年1組"
        assert "全校・1年の予定を含む" in str(cal["X-WR-CALDESC"])

    def test_a_grade_feed_includes_the_school_wide_events(self, client, events):
        body = fetch(client, "/calendars/kojimachi/g1/feed.ics").content
        assert self.summaries(body) == {"入学式", "【全校】運動会"}

    def test_the_school_wide_feed_is_unchanged(self, client, events):
        assert self.summaries(fetch(client, "/calendars/kojimachi/all/feed.ics").content) == {"運動会"}

    def test_school_wide_0_leaves_them_out(self, client, events):
        assert self.summaries(fetch(client, "/calendars/kojimachi/g1-c1/feed.ics?school_wide=0").content) == {
            "授業参観", "【1年】入学式"}
        assert self.summaries(fetch(client, "/calendars/kojimachi/g1-c1/feed.ics?school_wide=0&grade=0").content) \
            == {"授業参観"}
        assert self.summaries(fetch(client, "/calendars/kojimachi/g1/feed.ics?school_wide=0").content) == {"入学式"}
        source = icalendar.Calendar.from_ical(
            fetch(client, "/calendars/kojimachi/g1-c1/feed.ics?utm=x&school_wide=0").content)["SOURCE"]
        assert str(source) == "http://testserver/calendars/kojimachi/g1-c1/feed.ics?school_wide=0"

    def test_each_option_has_its_own_etag_and_304_follows_its_own_events(self, client, school, events):
        full_url = "/calendars/kojimachi/g1-c1/feed.ics"
        own_url = full_url + "?school_wide=0"
        full, own = fetch(client, full_url), fetch(client, own_url)
        assert full["ETag"] != own["ETag"]
        # A client holding one variant's ETag does not get a 304 for the other.
        assert fetch(client, own_url, HTTP_IF_NONE_MATCH=full["ETag"]).status_code == 200
        assert fetch(client, full_url, HTTP_IF_NONE_MATCH=own["ETag"]).status_code == 200
        assert fetch(client, own_url, HTTP_IF_NONE_MATCH=own["ETag"]).status_code == 304
        # A change to a 全校 event changes the full feed, not the one without 全校.
        sports_day = Event.objects.get(title="運動会")
        with time_machine.travel(datetime.now(tz=TOKYO) + timedelta(minutes=5)):
            services.event_cancel(actor="test", event=sports_day)
        changed = fetch(client, full_url, HTTP_IF_NONE_MATCH=full["ETag"], HTTP_IF_MODIFIED_SINCE=full["Last-Modified"])
        assert changed.status_code == 200 and changed["ETag"] != full["ETag"]
        assert "STATUS:CANCELLED" in changed.content.decode()
        assert fetch(client, own_url, HTTP_IF_NONE_MATCH=own["ETag"]).status_code == 304

    def test_the_subscribe_page_offers_the_feed_without_the_school_wide_events(self, client, events):
        page = client.get("/calendars/kojimachi/").content.decode()
        assert "全校・1年の予定も入っています。" in page
        assert 'href="webcal://testserver/calendars/kojimachi/g1-c1/feed.ics?school_wide=0"' in page
        assert "全校の予定を含めずに購読" in page
        # the school-wide calendar's own entry has no such note
        entry = page.split('alt="全校の購読用QRコード"', 1)[1].split('class="cal-subscribe"', 1)[0]
        assert "予定も入っています" not in entry


class TestTheWeekendRuleInTheFeed:
    """An RRULE cannot move an occurrence off a weekend or a holiday: the feed writes an EXDATE for
    each skipped one and an override (same UID, RECURRENCE-ID) for each moved one."""

    RULE = "FREQ=MONTHLY;UNTIL=20260315;BYMONTHDAY=15"

    def test_moved_occurrences_are_overrides_and_skipped_ones_exdates(self, client, school, make_event):
        event = make_event("避難訓練", start=date(2025, 4, 15), start_time=time(10, 40), end_time=time(11, 0),
                           rrule=self.RULE, exdates=[date(2025, 8, 15)], off_day="previous")
        body = fetch(client, "/calendars/kojimachi/all/feed.ics").content
        components = vevents(body)
        master = next(c for c in components if "RECURRENCE-ID" not in c)
        overrides = sorted((c for c in components if "RECURRENCE-ID" in c), key=lambda c: c["DTSTART"].dt)
        assert {str(c["UID"]) for c in components} == {event.uid}
        assert "RRULE" in master and all("RRULE" not in c and "EXDATE" not in c for c in overrides)
        assert [(c["RECURRENCE-ID"].dt, c["DTSTART"].dt, c["DTEND"].dt) for c in overrides][:2] == [
            (datetime(2025, 6, 15, 10, 40, tzinfo=TOKYO), datetime(2025, 6, 13, 10, 40, tzinfo=TOKYO),
             datetime(2025, 6, 13, 11, 0, tzinfo=TOKYO)),
            (datetime(2025, 9, 15, 10, 40, tzinfo=TOKYO), datetime(2025, 9, 12, 10, 40, tzinfo=TOKYO),
             datetime(2025, 9, 12, 11, 0, tzinfo=TOKYO)),
        ]
        assert all(c["SEQUENCE"] == master["SEQUENCE"] and c["SUMMARY"] == "避難訓練" for c in overrides)
        assert "RECURRENCE-ID;TZID=Asia/Tokyo:20250615T104000" in body.decode()
        window = (date(2025, 4, 1), date(2026, 4, 1))
        by_recurring, by_vobject = _expanded(body, *window), _vobject_expanded(body, *window)
        assert by_recurring == by_vobject
        days = sorted(date.fromisoformat(d) for _, d in by_recurring)
        assert len(days) == 11 and date(2025, 8, 15) not in days
        assert not [d for d in days if d.weekday() >= 5 or jpholiday.is_holiday(d)]
        from hiroba.calendars import queries

        ours = {o.start for o in queries.occurrences(school.calendars.all(), date(2025, 4, 1), date(2026, 3, 31))}
        assert ours == set(days)

    def test_skipped_occurrences_are_exdates_of_an_all_day_series(self, client, school, make_event):
        make_event("朝の読み聞かせ", start=date(2025, 4, 15), rrule=self.RULE, off_day="skip")
        (master,) = vevents(fetch(client, "/calendars/kojimachi/all/feed.ics").content)
        exdates = sorted(d.dt for d in master["EXDATE"].dts)  # one EXDATE property listing every date
        assert exdates == [date(2025, 6, 15), date(2025, 9, 15), date(2025, 11, 15), date(2026, 2, 15),
                           date(2026, 3, 15)]

    def test_a_change_of_the_rule_is_a_change_subscribers_see(self, client, school, make_event):
        event = make_event("避難訓練", start=date(2025, 4, 15), rrule=self.RULE)
        first = fetch(client, "/calendars/kojimachi/all/feed.ics")
        data = services.EventData(calendar=event.calendar, title="避難訓練", start_date=event.start_date,
                                  end_date=event.end_date, rrule=self.RULE, off_day="next")
        with time_machine.travel(datetime.now(tz=TOKYO) + timedelta(minutes=5)):
            assert services.event_update(actor="test", event=event, data=data)
        again = fetch(client, "/calendars/kojimachi/all/feed.ics", HTTP_IF_NONE_MATCH=first["ETag"])
        assert again.status_code == 200 and len(vevents(again.content)) == 1 + 5
        event.refresh_from_db()
        assert event.sequence == 1 and event.revisions.first().changes["off_day"] == ["", "next"]

    def test_the_sample_years_monthly_drill_is_never_on_a_day_off(self, client, year):
        body = fetch(client, "/calendars/kojimachi/feed.ics").content
        drill = Event.objects.get(school=year, ref="R7-061")
        window = (date(2025, 4, 1), date(2026, 4, 1))
        days = sorted(date.fromisoformat(d) for uid, d in _vobject_expanded(body, *window) if uid == drill.uid)
        assert days == sorted(date.fromisoformat(d) for uid, d in _expanded(body, *window) if uid == drill.uid)
        assert len(days) == 11 and date(2025, 9, 12) in days and date(2025, 6, 13) in days
        assert not [d for d in days if d.weekday() >= 5 or jpholiday.is_holiday(d)]
