"""Screening (審査): the reviewer panel, assignments, scores, conflicts and the decision."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from hiroba.accounts.models import User
from hiroba.core import audit, pagecache
from hiroba.core.actors import ActorLike
from hiroba.proposals import audit_actions as actions
from hiroba.proposals import scoring
from hiroba.proposals.models import (
    REASON_MAX,
    Call,
    Proposal,
    ReviewAssignment,
    Reviewer,
    Score,
    ScreeningDecision,
)
from hiroba.proposals.services._common import _jp, _now
from hiroba.proposals.services.errors import (
    ScreeningRefused,
)


@transaction.atomic
def reviewer_add(*, actor: ActorLike, call: Call, user: User) -> Reviewer:
    """Put a staff member (or an external judge's staff-kind account) on the call's panel."""
    if not user.is_staff_member:
        raise ScreeningRefused(_("審査員には職員のアカウントを指定してください。"), code="not_staff", field="email")
    reviewer, created = Reviewer.objects.get_or_create(call=call, user=user)
    if created:
        audit.record(actor=actor, action=actions.REVIEWER_ADD, obj=reviewer,
                     changes={"call": call.slug, "user": user.pk})
    return reviewer


def _screening_open(call: Call, now: datetime | None) -> None:
    if not call.is_screening(now):
        raise ScreeningRefused(
            format_lazy(_("審査期間（{start}〜{end}）ではありません。"),
                        start=_jp(call.submission_end + timedelta(days=1)),
                        end=_jp(call.voting_start - timedelta(days=1))), code="closed")


def _screenable(call: Call) -> Any:
    return call.proposals.filter(status=Proposal.Status.SUBMITTED, hidden_at__isnull=True)


def _assign(call: Call, proposal_ids: Iterable[int] | None = None) -> list[ReviewAssignment]:
    reviewers = list(call.reviewers.order_by("pk").values_list("pk", flat=True))
    proposals = _screenable(call).order_by("receipt_number")
    if proposal_ids is not None:
        proposals = proposals.filter(pk__in=list(proposal_ids))
    proposal_ids = list(proposals.values_list("pk", flat=True))
    existing: dict[int, list[int]] = {}
    excluded: dict[int, list[int]] = {}
    # The load counts every active assignment in the call, not only those being filled.
    for pid, rid, status in ReviewAssignment.objects.filter(proposal__call=call).values_list(
        "proposal_id", "reviewer_id", "status"
    ):
        (excluded if status == ReviewAssignment.Status.CONFLICT else existing).setdefault(pid, []).append(rid)
    pairs = scoring.assign(proposal_ids, reviewers, call.reviewers_per_proposal,
                           existing=existing, excluded=excluded, salt=f"call:{call.pk}")
    # `existing` for proposals outside `proposal_ids` still counts in the load: scoring.assign
    # only iterates the given proposals but loads every existing assignment.
    return ReviewAssignment.objects.bulk_create([
        ReviewAssignment(proposal_id=pid, reviewer_id=rid) for pid, rids in pairs.items() for rid in rids
    ])


@transaction.atomic
def reviews_assign(*, actor: ActorLike, call: Call, now: datetime | None = None) -> list[ReviewAssignment]:
    """Give every proposal `reviewers_per_proposal` reviewers, evenly and deterministically."""
    _screening_open(call, now)
    call = Call.objects.select_for_update().get(pk=call.pk)
    if call.reviewers.count() < call.reviewers_per_proposal:
        raise ScreeningRefused(format_lazy(_("審査員が足りません（1提案あたり{n}名が必要）。"), n=call.reviewers_per_proposal),
                               code="too_few_reviewers")
    created = _assign(call)
    audit.record(actor=actor, action=actions.REVIEWS_ASSIGN, obj=call,
                 changes={"assignments": sorted([a.proposal_id, a.reviewer_id] for a in created)})
    return created


@transaction.atomic
def review_declare_conflict(*, actor: User, assignment: ReviewAssignment, reason: str,
                            now: datetime | None = None) -> ReviewAssignment | None:
    """A reviewer declares a conflict of interest: excluded from this proposal, which is handed to
    the least-loaded other reviewer. Returns the replacement assignment (None if nobody is left)."""
    assignment = ReviewAssignment.objects.select_for_update().select_related("proposal__call", "reviewer").get(
        pk=assignment.pk)
    if assignment.reviewer.user_id != actor.pk:
        raise PermissionDenied
    if not reason.strip():
        raise ScreeningRefused(_("利害関係の内容を入力してください。"), code="reason_missing", field="reason")
    call = assignment.proposal.call
    _screening_open(call, now)
    before = audit.snapshot(assignment, ["status", "conflict_reason"])
    assignment.status = ReviewAssignment.Status.CONFLICT
    assignment.conflict_reason = reason.strip()[:REASON_MAX]
    assignment.comment = ""
    assignment.submitted_at = None
    assignment.save(update_fields=["status", "conflict_reason", "comment", "submitted_at"])
    assignment.scores.all().delete()
    replacement = _assign(call, [assignment.proposal_id])
    changes = audit.diff(before, audit.snapshot(assignment, ["status", "conflict_reason"]))
    changes["reassigned_to"] = [a.reviewer_id for a in replacement]
    audit.record(actor=actor, action=actions.REVIEW_CONFLICT, obj=assignment, changes=changes)
    return replacement[0] if replacement else None


@transaction.atomic
def review_submit(*, actor: User, assignment: ReviewAssignment, scores: Mapping[int, int], comment: str,
                  now: datetime | None = None) -> ReviewAssignment:
    """Score a proposal on every criterion (1..scale_max) with a comment; may be revised until the
    proposal's screening decision."""
    assignment = ReviewAssignment.objects.select_for_update().select_related("proposal__call", "reviewer").get(
        pk=assignment.pk)
    if assignment.reviewer.user_id != actor.pk:
        raise PermissionDenied
    if assignment.status == ReviewAssignment.Status.CONFLICT:
        raise ScreeningRefused(_("利害関係を申告した提案は採点できません。"), code="conflict")
    proposal = assignment.proposal
    _screening_open(proposal.call, now)
    if proposal.screening_decision:
        raise ScreeningRefused(_("この提案は審査結果が決定済みのため、採点を変更できません。"), code="decided")
    criteria = list(proposal.call.criteria.all())
    for c in criteria:
        value = scores.get(c.pk)
        if value is None or not 1 <= int(value) <= c.scale_max:
            raise ScreeningRefused(format_lazy(_("「{name}」は1〜{max}点で採点してください。"), name=c.name, max=c.scale_max),
                                   code="score_range", field=f"c{c.pk}")
    if set(scores) - {c.pk for c in criteria}:
        raise ScreeningRefused(_("この募集にない審査項目が含まれています。"), code="unknown_criterion")
    before: dict[str, int | str] = {f"score:{s.criterion_id}": s.value for s in assignment.scores.all()}
    before["comment"] = assignment.comment
    assignment.scores.all().delete()
    Score.objects.bulk_create([Score(assignment=assignment, criterion=c, value=int(scores[c.pk])) for c in criteria])
    assignment.comment = comment.strip()
    assignment.status = ReviewAssignment.Status.SUBMITTED
    assignment.submitted_at = _now(now)
    assignment.save(update_fields=["comment", "status", "submitted_at"])
    after: dict[str, int | str] = {f"score:{c.pk}": int(scores[c.pk]) for c in criteria}
    after["comment"] = assignment.comment
    audit.record(actor=actor, action=actions.REVIEW_SUBMIT, obj=assignment, changes=audit.diff(before, after))
    return assignment


@transaction.atomic
def proposal_decide(*, actor: ActorLike, proposal: Proposal, decision: str, reason: str,
                    now: datetime | None = None) -> Proposal:
    """Record the screening decision (投票対象に選定する／しない) with its reason."""
    proposal = Proposal.objects.select_for_update().select_related("call").get(pk=proposal.pk)
    _screening_open(proposal.call, now)
    if decision not in (ScreeningDecision.SHORTLISTED, ScreeningDecision.NOT_SHORTLISTED):
        raise ScreeningRefused(_("審査結果を選んでください。"), code="required", field="decision")
    if not reason.strip():
        raise ScreeningRefused(_("審査結果の理由を入力してください。"), code="reason_missing", field="reason")
    if proposal.status != Proposal.Status.SUBMITTED:
        raise ScreeningRefused(_("受付済みの提案ではありません。"), code="not_submitted")
    if decision == ScreeningDecision.SHORTLISTED and proposal.is_hidden:
        raise ScreeningRefused(_("非公開の提案は投票対象にできません。"), code="hidden", field="decision")
    before = audit.snapshot(proposal, ["screening_decision", "screening_reason"])
    proposal.screening_decision = decision
    proposal.screening_reason = reason.strip()[:REASON_MAX]
    proposal.decided_at = _now(now)
    proposal.save(update_fields=["screening_decision", "screening_reason", "decided_at", "updated_at"])
    pagecache.invalidate("proposals")
    audit.record(actor=actor, action=actions.PROPOSAL_DECIDE, obj=proposal,
                 changes=audit.diff(before, audit.snapshot(proposal, ["screening_decision", "screening_reason"])))
    return proposal
