from __future__ import annotations

from collections import Counter

import pytest
from django.core.exceptions import PermissionDenied

from hiroba.core.models import AuditEntry
from hiroba.proposals import queries, services
from hiroba.proposals.models import ReviewAssignment, ScreeningDecision
from tests.proposals.conftest import DURING_SCREENING, DURING_SUBMISSION, DURING_VOTING

pytestmark = pytest.mark.django_db


@pytest.fixture
def panel(call, make_staff, handler):
    users = [make_staff(email=f"judge{i}@example.jp", department=None, display_name=f"審査員{i}").user
             for i in range(1, 5)]
    for user in users:
        services.reviewer_add(actor=handler, call=call, user=user)
    return users


@pytest.fixture
def received(call, make_proposal, make_resident):
    return [make_proposal(call, title=f"提案{i}",
                          proposer=make_resident(display_name=f"提案者{i}", email=f"proposer{i}@example.jp"))
            for i in range(1, 9)]


def _score(assignment, value, comment="良い"):
    criteria = assignment.proposal.call.criteria.all()
    return services.review_submit(actor=assignment.reviewer.user, assignment=assignment,
                                  scores={c.pk: value for c in criteria}, comment=comment, now=DURING_SCREENING)


def test_each_proposal_gets_its_reviewers_evenly(call, panel, received, handler):
    created = services.reviews_assign(actor=handler, call=call, now=DURING_SCREENING)
    assert len(created) == 8 * 2
    per_proposal = Counter(a.proposal_id for a in created)
    assert set(per_proposal.values()) == {2}
    load = Counter(a.reviewer_id for a in created)
    assert sorted(load.values()) == [4, 4, 4, 4]
    entry = AuditEntry.objects.get(action="proposals.reviews_assign")
    assert len(entry.changes["assignments"]) == 16


def test_assignment_is_deterministic_and_only_fills_gaps(call, panel, received, handler):
    first = {(a.proposal_id, a.reviewer_id) for a in services.reviews_assign(actor=handler, call=call,
                                                                            now=DURING_SCREENING)}
    assert services.reviews_assign(actor=handler, call=call, now=DURING_SCREENING) == []
    ReviewAssignment.objects.all().delete()
    again = {(a.proposal_id, a.reviewer_id) for a in services.reviews_assign(actor=handler, call=call,
                                                                            now=DURING_SCREENING)}
    assert first == again


def test_assignment_waits_for_the_screening_phase(call, panel, received, handler):
    with pytest.raises(services.ScreeningRefused, match="審査期間"):
        services.reviews_assign(actor=handler, call=call, now=DURING_SUBMISSION)


def test_a_conflict_excludes_the_reviewer_and_reassigns(call, panel, received, handler):
    services.reviews_assign(actor=handler, call=call, now=DURING_SCREENING)
    assignment = ReviewAssignment.objects.order_by("pk").first()
    replacement = services.review_declare_conflict(actor=assignment.reviewer.user, assignment=assignment,
                                                   reason="提案者が所属する町会の役員です", now=DURING_SCREENING)
    assignment.refresh_from_db()
    assert assignment.status == ReviewAssignment.Status.CONFLICT
    assert replacement is not None and replacement.reviewer_id != assignment.reviewer_id
    active = ReviewAssignment.objects.filter(proposal=assignment.proposal).exclude(status="conflict")
    assert active.count() == 2 and assignment.reviewer_id not in active.values_list("reviewer_id", flat=True)
    entry = AuditEntry.objects.get(action="proposals.review_conflict")
    assert entry.changes["reassigned_to"] == [replacement.reviewer_id]
    # Assigning again never hands it back to the reviewer who declared the conflict.
    services.reviews_assign(actor=handler, call=call, now=DURING_SCREENING)
    assert not ReviewAssignment.objects.filter(proposal=assignment.proposal, reviewer=assignment.reviewer,
                                               status="assigned").exists()


def test_only_the_assigned_reviewer_may_score_or_declare(call, panel, received, handler):
    services.reviews_assign(actor=handler, call=call, now=DURING_SCREENING)
    assignment = ReviewAssignment.objects.first()
    other = next(u for u in panel if u.pk != assignment.reviewer.user_id)
    with pytest.raises(PermissionDenied):
        services.review_submit(actor=other, assignment=assignment, scores={}, comment="", now=DURING_SCREENING)


def test_scores_must_cover_every_criterion_within_the_scale(call, panel, received, handler):
    services.reviews_assign(actor=handler, call=call, now=DURING_SCREENING)
    assignment = ReviewAssignment.objects.first()
    first = call.criteria.first()
    with pytest.raises(services.ScreeningRefused, match="1〜5点"):
        services.review_submit(actor=assignment.reviewer.user, assignment=assignment, scores={first.pk: 3},
                               comment="", now=DURING_SCREENING)
    with pytest.raises(services.ScreeningRefused, match="1〜5点"):
        _score(assignment, 6)
    _score(assignment, 4, "実現性が高い")
    assignment.refresh_from_db()
    assert assignment.status == "submitted" and assignment.scores.count() == 5
    entry = AuditEntry.objects.get(action="proposals.review_submit")
    assert entry.actor_id == assignment.reviewer.user_id and entry.changes["comment"] == ["", "実現性が高い"]


def test_the_table_normalises_per_reviewer_and_flags_disagreement(call, panel, received, handler):
    services.reviews_assign(actor=handler, call=call, now=DURING_SCREENING)
    # Every reviewer scores their proposals in receipt order; reviewer 1 reverses the order.
    for reviewer in call.reviewers.all():
        mine = list(ReviewAssignment.objects.filter(reviewer=reviewer).order_by("proposal__receipt_number"))
        for i, a in enumerate(mine):
            value = 1 + i if reviewer.user.email != "judge1@example.jp" else 5 - i
            _score(a, max(1, min(5, value)))
    rows = queries.screening_table(call)
    assert len(rows) == 8 and all(r.reviews == 2 for r in rows)
    flagged = [r for r in rows if r.flagged]
    assert flagged, "the reversing reviewer's proposals are flagged for discussion"
    for r in rows:
        assert r.raw_mean is not None and r.z_mean is not None
        assert r.flagged == (r.spread > 1.5)
    assert [r.z_mean for r in rows] == sorted((r.z_mean for r in rows), reverse=True)


def test_the_shortlist_is_decided_with_reasons_and_audited(call, received, approver):
    proposal = received[0]
    with pytest.raises(services.ScreeningRefused, match="理由"):
        services.proposal_decide(actor=approver, proposal=proposal, decision="shortlisted", reason=" ",
                                 now=DURING_SCREENING)
    services.proposal_decide(actor=approver, proposal=proposal, decision=ScreeningDecision.SHORTLISTED,
                             reason="効果が大きく実現可能", now=DURING_SCREENING)
    proposal.refresh_from_db()
    assert proposal.is_shortlisted and proposal.screening_reason == "効果が大きく実現可能"
    entry = AuditEntry.objects.get(action="proposals.proposal_decide")
    assert entry.changes["screening_decision"] == ["", "shortlisted"]
    with pytest.raises(services.ScreeningRefused, match="審査期間"):
        services.proposal_decide(actor=approver, proposal=proposal, decision="not_shortlisted", reason="x",
                                 now=DURING_VOTING)


def test_a_hidden_proposal_cannot_be_shortlisted(call, received, handler, approver):
    services.proposal_hide(actor=handler, proposal=received[0], reason="個人情報が含まれている")
    with pytest.raises(services.ScreeningRefused, match="非公開"):
        services.proposal_decide(actor=approver, proposal=received[0], decision="shortlisted", reason="良い",
                                 now=DURING_SCREENING)


def test_hiding_is_audited_with_its_reason_and_reversible(call, received, handler):
    services.proposal_hide(actor=handler, proposal=received[1], reason="誹謗中傷を含む")
    assert queries.public_proposals(call, DURING_SCREENING).count() == 7
    entry = AuditEntry.objects.get(action="proposals.proposal_hide")
    assert entry.changes["hidden_reason"] == ["", "誹謗中傷を含む"]
    with pytest.raises(services.ProposalsError):
        services.proposal_unhide(actor=handler, proposal=received[1], reason="")
    services.proposal_unhide(actor=handler, proposal=received[1], reason="該当部分を確認し問題なし")
    assert queries.public_proposals(call, DURING_SCREENING).count() == 8
