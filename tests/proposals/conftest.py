"""Factories for the proposals tests: a call with fixed JST phases, residents, staff, proposals."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from allauth.account.models import EmailAddress

from hiroba.accounts.models import Relationship, ResidentVerification, Role, StaffMembership, User
from hiroba.proposals import services
from hiroba.proposals.models import Call, Proposal, ScreeningDecision
from tests.conftest import PASSWORD

JST = ZoneInfo("Asia/Tokyo")
DURING_SUBMISSION = datetime(2025, 6, 10, 10, 0, tzinfo=JST)
LAST_MINUTE = datetime(2025, 6, 30, 23, 59, 59, tzinfo=JST)
AFTER_DEADLINE = datetime(2025, 7, 1, 0, 0, 0, tzinfo=JST)
DURING_SCREENING = datetime(2025, 7, 5, 10, 0, tzinfo=JST)
DURING_VOTING = datetime(2025, 7, 25, 10, 0, tzinfo=JST)
VOTING_LAST_MOMENT = datetime(2025, 8, 4, 23, 59, 59, 999999, tzinfo=JST)
AFTER_VOTING = datetime(2025, 8, 5, 0, 0, 0, tzinfo=JST)
RESULTS_DAY = datetime(2025, 8, 11, 10, 0, tzinfo=JST)

DATES = dict(submission_start=date(2025, 6, 1), submission_end=date(2025, 6, 30), voting_start=date(2025, 7, 22),
             voting_end=date(2025, 8, 4), results_on=date(2025, 8, 11), implementation_on=date(2025, 9, 10))

TEXT = dict(title="区報をスマホで読めるように", problem="紙の区報が届かない世帯がある。",
            idea="区報をウェブとアプリで配信し、プッシュ通知で知らせる。", beneficiaries="子育て世帯、若い世代")


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def make_staff(make_staff):
    """The shared factory, with roles that started long ago (tests travel back to 2025)."""

    def factory(*args, **kwargs):
        staff = make_staff(*args, **kwargs)
        StaffMembership.objects.filter(user=staff.user).update(starts_on=date(2020, 4, 1))
        return staff

    return factory


@pytest.fixture
def handler(make_staff):
    return make_staff(email="handler@example.jp", department="digital", role=Role.HANDLE,
                      display_name="担当 一郎").user


@pytest.fixture
def approver(make_staff):
    return make_staff(email="approver@example.jp", department="digital", role=Role.APPROVE,
                      display_name="承認 花子").user


@pytest.fixture
def make_call(departments, handler) -> Callable[..., Call]:
    def factory(**overrides: object) -> Call:
        kwargs: dict[str, object] = dict(actor=handler, department=departments["digital"],
                                         title="デジタル活用提案 2025", theme="地域の課題をデジタルで解決する",
                                         slug="dx-2025", receipt_prefix="DX25", publish=True,
                                         now=DURING_SUBMISSION, **DATES)
        kwargs.update(overrides)
        return services.call_create(**kwargs)  # type: ignore[arg-type]

    return factory


@pytest.fixture
def call(make_call) -> Call:
    return make_call()


@pytest.fixture
def make_resident(db, handler) -> Callable[..., User]:
    counter = {"n": 0}

    def factory(email: str | None = None, *, email_verified: bool = True, residency: str | None = Relationship.RESIDENT,
                birth_date: date | None = date(1980, 4, 1), display_name: str = "区民 花子") -> User:
        counter["n"] += 1
        email = email or f"resident{counter['n']}@example.jp"
        user = User.objects.create_user(email=email, password=PASSWORD, display_name=display_name)
        EmailAddress.objects.create(user=user, email=email, verified=email_verified, primary=True)
        if residency:
            services.voter_verify(actor=handler, user=user, display_name=display_name, residency=residency,
                                  birth_date=birth_date, name_kana=f"くみん {counter['n']}",
                                  address=f"千代田区九段南1-{counter['n']}")
        return user

    return factory


@pytest.fixture
def make_proposal(make_resident) -> Callable[..., Proposal]:
    def factory(call: Call, *, proposer: User | None = None, now: datetime = DURING_SUBMISSION,
                **text: str) -> Proposal:
        proposer = proposer or make_resident(residency=None)
        fields = {**TEXT, "proposer_category": "individual", "proposer_label": "", **text}
        draft = services.proposal_save(proposer=proposer, call=call, now=now, **fields)
        return services.proposal_submit(proposer=proposer, proposal=draft, now=now)

    return factory


@pytest.fixture
def shortlisted(call, make_proposal, approver) -> list[Proposal]:
    """Four received proposals; the first three shortlisted, the fourth not."""
    proposals = [make_proposal(call, title=f"提案{i}") for i in range(1, 5)]
    for i, p in enumerate(proposals):
        decision = ScreeningDecision.SHORTLISTED if i < 3 else ScreeningDecision.NOT_SHORTLISTED
        services.proposal_decide(actor=approver, proposal=p, decision=decision, reason="審査会で決定",
                                 now=DURING_SCREENING)
    return [Proposal.objects.get(pk=p.pk) for p in proposals]


def verification_of(user: User) -> ResidentVerification:
    return ResidentVerification.objects.get(user=user)
