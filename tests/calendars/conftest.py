"""Fixtures for school calendars: two schools under 教育委員会事務局, their staff, a few events."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, time

import pytest

from hiroba.accounts.models import Role
from hiroba.calendars import services
from hiroba.calendars.models import Calendar, Event, School
from hiroba.core.models import Department


@pytest.fixture
def school_departments(departments) -> dict[str, Department]:
    kyoiku = Department.objects.create(code="kyoiku", name="教育委員会事務局")
    departments["kyoiku"] = kyoiku
    departments["kojimachi-es"] = Department.objects.create(code="kojimachi-es", name="麹町小学校", parent=kyoiku)
    departments["bancho-es"] = Department.objects.create(code="bancho-es", name="番町小学校", parent=kyoiku)
    return departments


@pytest.fixture
def school(school_departments) -> School:
    return services.school_create(
        actor="test", department=school_departments["kojimachi-es"], slug="kojimachi",
        name="千代田区立麹町小学校", short_name="麹町小", kind=School.Kind.ELEMENTARY, classes_per_grade=2,
        address="東京都千代田区麹町二丁目8番", phone="03-0000-0001",
    )


@pytest.fixture
def other_school(school_departments) -> School:
    return services.school_create(
        actor="test", department=school_departments["bancho-es"], slug="bancho",
        name="千代田区立番町小学校", short_name="番町小", kind=School.Kind.ELEMENTARY,
    )


def calendar_of(school: School, label: str) -> Calendar:
    return next(c for c in school.calendars.all() if c.label == label)


@pytest.fixture
def make_event(school) -> Callable[..., Event]:
    def factory(title: str = "運動会", *, label: str = "全校", start: date = date(2025, 5, 24),
                end: date | None = None, start_time: time | None = None, end_time: time | None = None,
                rrule: str = "", exdates: list[date] | None = None, on: School | None = None,
                **extra: object) -> Event:
        target = on or school
        data = services.EventData(
            calendar=calendar_of(target, label), title=title, start_date=start, end_date=end or start,
            all_day=start_time is None, start_time=start_time, end_time=end_time, rrule=rrule,
            exdates=exdates or [], **extra,  # type: ignore[arg-type]
        )
        return services.event_create(actor="test", data=data)

    return factory


@pytest.fixture
def school_clerk(make_staff, school):
    """A clerk with the 担当 role in 麹町小学校 (and nothing else)."""
    return make_staff(email="kyomu@kojimachi.example.jp", department="kojimachi-es", role=Role.HANDLE)


@pytest.fixture
def clerk_client(client, school_clerk):
    client.force_login(school_clerk.user)
    return client
