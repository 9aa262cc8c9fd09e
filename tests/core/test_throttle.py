"""core.throttle: fixed windows in the shared cache, 429 with Retry-After, refusals visible to staff."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory

from hiroba.accounts.models import Role, StaffMembership
from hiroba.core import audit, throttle
from hiroba.core.models import AuditEntry

pytestmark = pytest.mark.django_db
JST = ZoneInfo("Asia/Tokyo")
NOON = datetime(2025, 6, 20, 12, 0, 0, tzinfo=JST)


def _post(ip: str = "192.0.2.10"):
    return RequestFactory().post("/x/", REMOTE_ADDR=ip)


@pytest.fixture
def limits(settings):
    settings.HIROBA_RATE_LIMITS = {**settings.HIROBA_RATE_LIMITS, "workshops.apply": "3/m/ip,2/h/key"}


def test_rates_are_parsed_and_a_bad_one_is_refused():
    assert [(r.limit, r.seconds, r.per) for r in throttle.parse("20/10m/ip,5/h/key")] == [(20, 600, "ip"),
                                                                                           (5, 3600, "key")]
    with pytest.raises(ImproperlyConfigured):
        throttle.parse("20 per minute")


def test_the_fourth_attempt_in_a_minute_is_refused_until_the_window_ends(limits):
    with time_machine.travel(NOON, tick=False) as traveller:
        assert [throttle.check(_post(), "workshops.apply") for _ in range(3)] == [None, None, None]
        traveller.shift(20)
        refusal = throttle.check(_post(), "workshops.apply")
        assert refusal is not None and refusal.retry_after == 40 and refusal.rate.text == "3/m/ip"
        assert throttle.check(_post("192.0.2.11"), "workshops.apply") is None  # another address is its own
        traveller.shift(41)
        assert throttle.check(_post(), "workshops.apply") is None


def test_an_identity_is_limited_whatever_address_it_comes_from(limits):
    with time_machine.travel(NOON, tick=False):
        assert throttle.check(_post("192.0.2.1"), "workshops.apply", key="a@example.jp") is None
        assert throttle.check(_post("192.0.2.2"), "workshops.apply", key="A@example.jp ") is None
        refusal = throttle.check(_post("192.0.2.3"), "workshops.apply", key="a@example.jp")
    assert refusal is not None and refusal.rate.per == "key" and refusal.retry_after == 3600


def test_a_flood_writes_one_audit_entry_per_blocked_key_and_counts_every_refusal(limits):
    with time_machine.travel(NOON, tick=False):
        for _ in range(50):
            throttle.check(_post(), "workshops.apply")
        audit.chain_pending()
        assert AuditEntry.objects.filter(action="throttle.refused").count() == 1
        entry = AuditEntry.objects.get(action="throttle.refused")
        assert entry.object_repr == "workshops.apply" and entry.changes["limits"] == ["3/m/ip"]
        (day, counts), *_ = throttle.refused_counts(["workshops.apply"])
    assert day == NOON.date() and counts == {"workshops.apply": 47}


def test_the_answer_is_429_in_japanese_with_retry_after(limits, client):
    request = _post()
    with time_machine.travel(NOON, tick=False):
        for _ in range(4):
            refusal = throttle.check(request, "workshops.apply")
    response = throttle.too_many(request, refusal)
    assert response.status_code == 429 and response["Retry-After"] == "60"
    assert "しばらく時間をおいてから" in response.content.decode() and "約1分後" in response.content.decode()


def test_staff_see_what_was_refused(limits, client, make_staff):
    with time_machine.travel(NOON, tick=False):
        for _ in range(6):
            throttle.check(_post(), "workshops.apply")
    admin = make_staff(email="admin@example.jp", department="systems", role=Role.ADMIN)
    StaffMembership.objects.update(starts_on=date(2020, 4, 1))  # the role holds on the travelled-to day
    client.force_login(admin.user)
    with time_machine.travel(NOON, tick=False):
        page = client.get("/staff/throttle/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "<code>workshops.apply</code></td><td class=\"number\">3</td><td class=\"number\">1</td>" in html
    assert "/x/" in html  # the refused path (the address comes from the request context in a real request)


def test_limits_come_from_the_environment(monkeypatch):
    from hiroba import settings as hiroba_settings

    monkeypatch.setenv("HIROBA_RATE_LIMITS", "workshops.apply=40/h/ip; proposals.vote=10/m/key")
    limits = hiroba_settings._rate_limits(hiroba_settings.DEFAULT_RATE_LIMITS)
    assert limits["workshops.apply"] == "40/h/ip" and limits["proposals.vote"] == "10/m/key"
    assert limits["consultations.submit"] == hiroba_settings.DEFAULT_RATE_LIMITS["consultations.submit"]
    for bad in ("nosuch.scope=1/m/ip", "workshops.apply=lots"):
        monkeypatch.setenv("HIROBA_RATE_LIMITS", bad)
        with pytest.raises(ImproperlyConfigured):
            hiroba_settings._rate_limits(hiroba_settings.DEFAULT_RATE_LIMITS)


def test_a_days_count_outlives_the_caches_five_minute_default(settings):
    """The database cache's own incr resets an entry's time-out to five minutes: counted that
    way, a limit per day forgot every attempt made more than five minutes before."""
    settings.HIROBA_RATE_LIMITS = {**settings.HIROBA_RATE_LIMITS, "workshops.consent_mail": "3/d/key"}
    with time_machine.travel(datetime(2025, 6, 20, 9, 0, tzinfo=JST), tick=False) as traveller:
        for _ in range(3):
            assert throttle.check(_post(), "workshops.consent_mail", key="victim@example.jp") is None
            traveller.shift(3600)  # an hour apart
        assert throttle.check(_post(), "workshops.consent_mail", key="victim@example.jp") is not None


def test_the_database_counter_starts_again_when_its_window_has_ended():
    from hiroba.core.throttle import _incr_in_database

    with time_machine.travel(NOON, tick=False) as traveller:
        assert [_incr_in_database("k", 60) for _ in range(3)] == [1, 2, 3]
        traveller.shift(61)
        assert _incr_in_database("k", 60) == 1
