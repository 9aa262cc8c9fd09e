"""Adoption of a voted proposal and its public follow-up (状況, 節目)."""

from __future__ import annotations

from datetime import date, datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hiroba.core import audit, pagecache
from hiroba.core.actors import ActorLike
from hiroba.core.models import Department
from hiroba.proposals import audit_actions as actions
from hiroba.proposals.models import (
    REASON_MAX,
    CallResult,
    FollowUp,
    Milestone,
    Proposal,
)
from hiroba.proposals.services._common import _now
from hiroba.proposals.services.errors import (
    ProposalsError,
)


@transaction.atomic
def proposal_adopt(*, actor: ActorLike, proposal: Proposal, reason: str, department: Department | None = None,
                   budget_step: str = "", summary: str = "", now: datetime | None = None) -> FollowUp:
    """Adopt a voted proposal for 事業化 and open its public follow-up record."""
    proposal = Proposal.objects.select_for_update().select_related("call").get(pk=proposal.pk)
    if not CallResult.objects.filter(call=proposal.call).exists():
        raise ProposalsError(_("結果の公表後に採用を決定できます。"), code="not_published")
    if not proposal.is_shortlisted or proposal.is_hidden:
        raise ProposalsError(_("投票対象に選ばれた公開中の提案だけを採用できます。"), code="not_shortlisted")
    if proposal.adopted_at is not None:
        raise ProposalsError(_("この提案はすでに採用されています。"), code="adopted")
    if not reason.strip():
        raise ProposalsError(_("採用の理由を入力してください。"), code="reason_missing", field="reason")
    proposal.adopted_at = _now(now)
    proposal.adoption_reason = reason.strip()[:REASON_MAX]
    proposal.save(update_fields=["adopted_at", "adoption_reason", "updated_at"])
    followup = FollowUp.objects.create(proposal=proposal, department=department or proposal.call.department,
                                       budget_step=budget_step.strip(), summary=summary.strip(),
                                       updated_at=_now(now))
    pagecache.invalidate("proposals")
    audit.record(actor=actor, action=actions.PROPOSAL_ADOPT, obj=proposal,
                 changes={"reason": proposal.adoption_reason, "department": followup.department_id,
                          "budget_step": followup.budget_step})
    return followup


FOLLOWUP_FIELDS = ["status", "budget_step", "summary", "department_id"]


@transaction.atomic
def followup_update(*, actor: ActorLike, followup: FollowUp, status: str, budget_step: str, summary: str,
                    now: datetime | None = None) -> FollowUp:
    """Report progress on an adopted proposal (状況, 予算の段階, 内容)."""
    if status not in FollowUp.Status.values:
        raise ProposalsError(_("状況を選んでください。"), code="required", field="status")
    followup = FollowUp.objects.select_for_update().get(pk=followup.pk)
    before = audit.snapshot(followup, FOLLOWUP_FIELDS)
    followup.status, followup.budget_step, followup.summary = status, budget_step.strip(), summary.strip()
    followup.updated_at = _now(now)
    followup.save()
    pagecache.invalidate("proposals")
    audit.record(actor=actor, action=actions.FOLLOWUP_UPDATE, obj=followup,
                 changes=audit.diff(before, audit.snapshot(followup, FOLLOWUP_FIELDS)))
    return followup


@transaction.atomic
def milestone_add(*, actor: ActorLike, followup: FollowUp, title: str, due_on: date, done_on: date | None = None) -> Milestone:
    if not title.strip():
        raise ProposalsError(_("節目の内容を入力してください。"), code="required", field="title")
    milestone = Milestone.objects.create(followup=followup, title=title.strip()[:200], due_on=due_on, done_on=done_on)
    FollowUp.objects.filter(pk=followup.pk).update(updated_at=timezone.now())
    pagecache.invalidate("proposals")
    audit.record(actor=actor, action=actions.MILESTONE_ADD, obj=milestone,
                 changes={"followup": followup.pk, "title": milestone.title, "due_on": due_on.isoformat(),
                          "done_on": done_on.isoformat() if done_on else None})
    return milestone


@transaction.atomic
def milestone_complete(*, actor: ActorLike, milestone: Milestone, done_on: date) -> Milestone:
    before = audit.snapshot(milestone, ["done_on"])
    milestone.done_on = done_on
    milestone.save(update_fields=["done_on"])
    FollowUp.objects.filter(pk=milestone.followup_id).update(updated_at=timezone.now())
    pagecache.invalidate("proposals")
    audit.record(actor=actor, action=actions.MILESTONE_COMPLETE, obj=milestone,
                 changes=audit.diff(before, audit.snapshot(milestone, ["done_on"])))
    return milestone
