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
# /work/shared beside the checkout (the main tree, or a worktree one level further down)
SHARED = next((p / "shared" for p in Path(__file__).resolve().parents if (p / "shared" / "fixtures").is_dir()),
              Path(__file__).resolve().parents[2].parent / "shared")
FIXTURE_DIR = SHARED / "fixtures" / "chiyoda-dx-strategy-2025"
# Inside the period of the cases below (2025-01-05 .. 2025-02-10).
DURING = datetime(2025, 1, 10, 12, 0, tzinfo=JST)


def key() -> str:
    return uuid.uuid4().hex


# Where paper goes (a case taking paper cannot open without it).
CONTACTS = {
    "submit_address": "〒102-8688 千代田区九段南1-2-1 千代田区役所 デジタル政策課",
    "hand_in_place": "区役所4階 デジタル政策課窓口", "hand_in_hours": "平日 8時30分～17時15分",
    "fax_number": "03-0000-0000", "email_address": "dx-comment@example.jp",
}


@pytest.fixture
def make_case(departments) -> Callable[..., Case]:
    def factory(*, slug: str = "dx-plan", state: str = Case.State.OPEN, start: date = date(2025, 1, 5),
                end: date = date(2025, 2, 10), identity_level: str = "none", department: str = "digital",
                channels: list[str] | None = None, **extra: object) -> Case:
        extra = {**CONTACTS, **extra}
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


def _member_since_long_ago(user):
    """Roles count from their start date, and these tests travel back to 2025: let the
    membership have started before that."""
    from hiroba.accounts import permissions
    from hiroba.accounts.models import StaffMembership

    StaffMembership.objects.filter(user=user).update(starts_on=date(2000, 4, 1))
    permissions.forget(user)
    return user


@pytest.fixture
def approver(make_staff):
    return _member_since_long_ago(make_staff(email="approver@example.jp", role=Role.APPROVE).user)


@pytest.fixture
def clerk(make_staff):
    return _member_since_long_ago(make_staff(email="clerk2@example.jp", role=Role.HANDLE).user)


PAPER_ANSWER = ("個別事業に関わる提案内容については担当部署に共有し、今後、具体的な取組みを検討し"
                "進めていく上での参考にさせていただきます。")


@pytest.fixture
def standard_answer(db):
    """The paper's standard answer (seeded by migration 0002; transactional tests flush it)."""
    from hiroba.consultations.models import StandardAnswer

    return StandardAnswer.objects.get_or_create(title="個別事業に関わる提案（担当部署に共有）",
                                                defaults={"text": PAPER_ANSWER})[0]


# --- the opinion analysis (test_analysis_service.py, test_analysis_views.py) ---------------------

LETTER = (
    "区役所の窓口を縮小する計画に反対します。高齢者はオンライン手続きに慣れておらず、対面の窓口が"
    "必要です。窓口の職員を減らさないでください。区民の声を聞いて計画を見直してください。"
)
OTHERS = [
    "図書館の開館時間を夜九時まで延長してほしいです。仕事帰りに本を借りられません。",
    "図書館の開館時間を延長してください。平日の夜にも図書館で本を借りたいです。",
    "公園のトイレが古くて使いにくいので、早く改修してください。",
    "学校の連絡をスクールカレンダーとしてスマートフォンに配信してほしいです。連絡先は03-1234-5678です。",
]
# Three exact copies of a form letter, two edited copies (items 1–5), a same-intent pair (6, 7).
TEXTS = [LETTER] * 3 + [LETTER.replace("反対します", "強く反対します"), LETTER + "よろしくお願いします。"] + OTHERS


@pytest.fixture
def immediate_tasks(settings):
    """Background tasks run at once, in the test (the analysis, receipt mail)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def answering_case(make_case, submit, make_staff):
    """A case in 回答作成中 whose items are TEXTS, one per submission, and the clerk who cut them."""
    case = make_case(state=Case.State.OPEN)
    subs = [submit(case, text, name=f"区民{n}", email=f"k{n}@example.jp") for n, text in enumerate(TEXTS, 1)]
    clerk = make_staff(email="analyst@example.jp").user
    Case.objects.filter(pk=case.pk).update(state=Case.State.ANSWERING)
    case.refresh_from_db()
    for sub in subs:
        services.item_create(actor=clerk, submission=sub, span=(0, len(sub.text)))
    return case, clerk


# --- publication: a case through approval (test_publication_freeze.py, test_approval_route.py, …) --

PHONE_TEXT = "窓口の受付時間を延長してください。連絡先は090-1234-5678です。"


@pytest.fixture
def answered_case(make_case, submit, clerk):
    """A case in 回答作成中: three submissions, one item each; No.1 carries a phone number
    (masked automatically) and is on the whole draft (全体); No.2 is published by its 要旨;
    No.2 and No.3 share one answer (同趣旨の意見)."""
    case = make_case()
    texts = [PHONE_TEXT, "オンライン申請を増やしてほしい。", "オンラインで申請できる手続きを増やしてください。"]
    subs = [submit(case, text, name=f"区民{n}", email=f"k{n}@example.jp") for n, text in enumerate(texts, 1)]
    Case.objects.filter(pk=case.pk).update(state=Case.State.ANSWERING)
    case.refresh_from_db()
    whole, basics = case.sections.get(heading="全体"), case.sections.get(heading="基本的な考え方")
    items = [services.item_create(actor=clerk, submission=s, span=(0, len(s.text)), sections=[basics]) for s in subs]
    services.item_update(actor=clerk, item=items[0], sections=[whole])
    services.item_update(actor=clerk, item=items[1], summary="オンライン申請の拡大を求める意見")
    services.answer_write(actor=clerk, items=items[:1], text="窓口の受付時間は、利用状況を踏まえて検討します。")
    services.answer_write(actor=clerk, items=items[1:], text="オンライン申請の対象を順次広げてまいります。")
    return case


def approve(case, clerk, approver, **request):
    """Request approval as `clerk` and approve every step as `approver`."""
    round_ = services.approval_request(actor=clerk, case=case, **request)
    while round_.state == round_.State.PENDING:
        round_ = services.approval_decide(actor=approver, round_=round_, approve=True)
    case.refresh_from_db()
    return round_


@pytest.fixture
def approved_case(answered_case, clerk, approver):
    approve(answered_case, clerk, approver)
    return answered_case
