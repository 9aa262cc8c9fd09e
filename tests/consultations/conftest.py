"""Factories for consultation tests: an open case with sections, submissions, staff by role."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hiroba.accounts.models import Role
from hiroba.consultations import services
from hiroba.consultations.models import Case, Channel, Submission

JST = ZoneInfo("Asia/Tokyo")
SHARED = Path(__file__).resolve().parents[2].parent / "shared"
FIXTURE_DIR = SHARED / "fixtures" / "chiyoda-dx-strategy-2025"
# Inside the period of the cases below (2025-01-05 .. 2025-02-10).
DURING = datetime(2025, 1, 10, 12, 0, tzinfo=JST)


def key() -> str:
    return uuid.uuid4().hex


@pytest.fixture
def make_case(departments) -> Callable[..., Case]:
    def factory(*, slug: str = "dx-plan", state: str = Case.State.OPEN, start: date = date(2025, 1, 5),
                end: date = date(2025, 2, 10), identity_level: str = "none", department: str = "digital",
                channels: list[str] | None = None, **extra: object) -> Case:
        case = services.case_create(
            actor="test", slug=slug, title="千代田区DX戦略（素案）", department=departments[department],
            period_start=start, period_end=end,
            channels=channels or [Channel.HAND, Channel.POST, Channel.FAX, Channel.EMAIL, Channel.WEB],
            identity_level=identity_level, receipt_code="DX",
            short_period_reason="" if (end - start).days + 1 >= 30 else "テスト", **extra,
        )
        for number, heading in [("1", "全体"), ("2", "基本的な考え方"), ("3", "重点方針と取組み")]:
            services.section_add(actor="test", case=case, number=number, heading=heading, body=f"{heading}の本文")
        if state != Case.State.PREPARING:
            Case.objects.filter(pk=case.pk).update(state=state)
            case.refresh_from_db()
        return case

    return factory


@pytest.fixture
def case(make_case) -> Case:
    return make_case()


@pytest.fixture
def submit(time_machine) -> Callable[..., Submission]:
    def factory(case: Case, text: str = "意見です。", *, channel: str = Channel.WEB, at: datetime = DURING,
                **extra: object) -> Submission:
        time_machine.move_to(at)
        submission, _ = services.submission_receive(actor="resident", case=case, idempotency_key=key(),
                                                    channel=channel, text=text, **extra)
        return submission

    return factory


@pytest.fixture
def approver(make_staff):
    return make_staff(email="approver@example.jp", role=Role.APPROVE).user


@pytest.fixture
def clerk(make_staff):
    return make_staff(email="clerk2@example.jp", role=Role.HANDLE).user


PAPER_ANSWER = ("個別事業に関わる提案内容については担当部署に共有し、今後、具体的な取組みを検討し"
                "進めていく上での参考にさせていただきます。")


@pytest.fixture
def standard_answer(db):
    """The paper's standard answer (seeded by migration 0002; transactional tests flush it)."""
    from hiroba.consultations.models import StandardAnswer

    return StandardAnswer.objects.get_or_create(title="個別事業に関わる提案（担当部署に共有）",
                                                defaults={"text": PAPER_ANSWER})[0]
