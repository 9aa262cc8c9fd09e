"""Workshop fixtures: a junior-high programme around a fixed calendar, and applicants."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from hiroba.workshops import services
from hiroba.workshops.models import Application, Programme
from hiroba.workshops.services import ApplicationInput

JST = ZoneInfo("Asia/Tokyo")
OPEN_DAY = datetime(2025, 6, 20, 10, 0, tzinfo=JST)       # inside the window
AFTER_CONSENT = datetime(2025, 7, 28, 10, 0, tzinfo=JST)  # after the consent deadline
PUBLIC_VALUE = "2025-07-28 ナンバーズ4 第6789回 当せん番号 4821"


def at(moment: datetime) -> Any:
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def make_programme(departments) -> Callable[..., Programme]:
    def factory(**overrides: Any) -> Programme:
        fields: dict[str, Any] = dict(
            title="令和7年度 中学生デジタルワークショップ", purpose="地域の課題をデジタルで解決するアイデアを考えます。",
            audience="区内在住の中学生", residency_required=True, grade_min=7, grade_max=9, capacity=15,
            waitlist_size=5, applications_open_on=date(2025, 6, 15), applications_close_on=date(2025, 7, 15),
            consent_deadline=date(2025, 7, 22), selection_method=Programme.Selection.LOTTERY,
            lottery_seed_rule="抽選日の日付と、その日のナンバーズ4の当せん番号をつなげた文字列",
            privacy_notice="申込みの情報は、このワークショップの運営だけに使います。",
            starts_on=date(2025, 8, 1), ends_on=date(2026, 3, 31), purge_on=date(2026, 6, 30), is_published=True,
        )
        department = overrides.pop("department", departments["digital"])
        code = overrides.pop("code", "r7-jhs")
        fields.update(overrides)
        return services.programme_create(actor="test", department=department, code=code, **fields)

    return factory


@pytest.fixture
def programme(make_programme) -> Programme:
    return make_programme()


STUDENTS = [
    ("千代田 花子", "ちよだ はなこ", date(2012, 5, 1), "千代田区立麹町中学校", 8),
    ("神田 一郎", "かんだ いちろう", date(2011, 9, 9), "千代田区立神田一橋中学校", 9),
    ("九段 さくら", "くだん さくら", date(2013, 1, 20), "九段中等教育学校", 7),
    ("番町 太郎", "ばんちょう たろう", date(2012, 11, 3), "千代田区立麹町中学校", 8),
    ("和泉 ゆい", "いずみ ゆい", date(2012, 2, 14), "千代田区立神田一橋中学校", 8),
    ("富士見 蓮", "ふじみ れん", date(2011, 4, 30), "千代田区立麹町中学校", 9),
]


def application_input(i: int = 0, **overrides: Any) -> ApplicationInput:
    name, kana, birth, school, grade = STUDENTS[i]
    fields: dict[str, Any] = dict(
        student_name=name, student_kana=kana, birth_date=birth, school_name=school, grade=grade,
        lives_in_ward=True, address="千代田区九段南1-2-1", guardian_name=f"{name.split()[0]} 保護者",
        guardian_email=f"guardian{i}@example.jp", student_email=f"student{i}@example.jp",
        guardian_phone="03-0000-0000",
    )
    fields.update(overrides)
    return ApplicationInput(**fields)


@pytest.fixture
def submit() -> Callable[..., Application]:
    def factory(programme: Programme, i: int = 0, *, consent: bool = True, **overrides: Any) -> Application:
        with at(OPEN_DAY):
            app = services.application_submit(programme=programme, data=application_input(i, **overrides),
                                              site_url="https://hiroba.example")
            if consent:
                app = services.application_consent(token=services.consent_token(app), guardian_name="保護者")
        return app

    return factory


def consent_link(body: str) -> str:
    match = re.search(r"https?://[^/\s]+(/workshops/consent/[^/\s]+/)", body)
    assert match, body
    return match.group(1)


def backdate_memberships() -> None:
    """Roles start today by default; tests that travel back to 2025 need them to have started then."""
    from hiroba.accounts.models import StaffMembership

    StaffMembership.objects.update(starts_on=date(2020, 4, 1))
