from __future__ import annotations

from datetime import date

import pytest
from django.db import IntegrityError

from hiroba.accounts.models import IdentityLevel
from hiroba.core.models import AuditEntry
from hiroba.proposals import services
from hiroba.proposals.models import Call, Phase
from tests.proposals.conftest import (
    AFTER_DEADLINE,
    AFTER_VOTING,
    DURING_SCREENING,
    DURING_SUBMISSION,
    DURING_VOTING,
    LAST_MINUTE,
)

pytestmark = pytest.mark.django_db


def test_it_creates_a_call_with_the_default_rubric_and_audits_it(call):
    names = list(call.criteria.values_list("name", "weight", "scale_max"))
    assert [n for n, _, _ in names] == ["課題の明確さ", "実現可能性", "効果", "費用", "独自性"]
    assert call.votes_per_voter == 3 and call.voting_identity_level == IdentityLevel.VERIFIED
    entry = AuditEntry.objects.get(action="proposals.call_create")
    assert entry.object_id == str(call.pk)
    assert entry.changes["criteria"][0] == "課題の明確さ×2/5"


def test_phases_follow_the_jst_dates(call):
    assert call.phase(DURING_SUBMISSION) == Phase.SUBMISSION
    assert call.phase(LAST_MINUTE) == Phase.SUBMISSION
    assert call.phase(AFTER_DEADLINE) == Phase.SCREENING
    assert call.phase(DURING_SCREENING) == Phase.SCREENING
    assert call.phase(DURING_VOTING) == Phase.VOTING
    assert call.phase(AFTER_VOTING) == Phase.COUNTING


def test_it_derives_missing_dates_for_a_workshop_call(departments, handler):
    call = services.call_create(actor=handler, department=departments["digital"], title="中学生ワークショップ提案",
                                theme="中学生の視点", submission_start=date(2025, 8, 1), submission_end=date(2026, 3, 31))
    assert call.voting_start > call.submission_end and call.implementation_on > call.results_on
    assert call.receipt_prefix == f"P{call.pk}" and call.published_at is None


def test_it_refuses_an_age_rule_without_verified_identity(make_call):
    with pytest.raises(services.CallInvalid, match="本人確認済み"):
        make_call(min_age=12, voting_identity_level=IdentityLevel.EMAIL)
    assert not Call.objects.exists()


def test_it_refuses_phases_out_of_order(make_call):
    with pytest.raises(services.CallInvalid, match="日程"):
        make_call(voting_start=date(2025, 6, 15))


def test_the_database_refuses_phases_out_of_order_too(call):
    call.voting_start = date(2025, 6, 1)
    with pytest.raises(IntegrityError):
        call.save()


def test_the_rubric_is_locked_once_scoring_began(call, handler):
    services.call_update(actor=handler, call=call, criteria=[("効果", "", 3, 5), ("費用", "", 1, 4)])
    assert list(call.criteria.values_list("name", flat=True)) == ["効果", "費用"]
    entry = AuditEntry.objects.filter(action="proposals.call_update").last()
    assert entry.changes["criteria"][1] == ["効果×3/5", "費用×1/4"]
