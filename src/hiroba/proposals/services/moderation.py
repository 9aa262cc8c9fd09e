"""Moderation: taking a proposal out of public view and back."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hiroba.core import audit, pagecache
from hiroba.core.actors import ActorLike
from hiroba.proposals import audit_actions as actions
from hiroba.proposals.models import (
    REASON_MAX,
    Proposal,
)
from hiroba.proposals.services.errors import (
    ProposalsError,
)


@transaction.atomic
def proposal_hide(*, actor: ActorLike, proposal: Proposal, reason: str) -> Proposal:
    """Moderation: withdraw a proposal from public view (and from voting) with a stated reason."""
    if not reason.strip():
        raise ProposalsError(_("非公開にする理由を入力してください。"), code="reason_missing", field="reason")
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    before = audit.snapshot(proposal, ["hidden_at", "hidden_reason"])
    proposal.hidden_at = timezone.now()
    proposal.hidden_reason = reason.strip()[:REASON_MAX]
    proposal.save(update_fields=["hidden_at", "hidden_reason", "updated_at"])
    pagecache.invalidate("proposals")
    audit.record(actor=actor, action=actions.PROPOSAL_HIDE, obj=proposal,
                 changes=audit.diff(before, audit.snapshot(proposal, ["hidden_at", "hidden_reason"])))
    return proposal


@transaction.atomic
def proposal_unhide(*, actor: ActorLike, proposal: Proposal, reason: str) -> Proposal:
    """Undo a moderation decision (the reason is kept in the audit log)."""
    if not reason.strip():
        raise ProposalsError(_("再公開する理由を入力してください。"), code="reason_missing", field="reason")
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    before = audit.snapshot(proposal, ["hidden_at", "hidden_reason"])
    proposal.hidden_at = None
    proposal.hidden_reason = ""
    proposal.save(update_fields=["hidden_at", "hidden_reason", "updated_at"])
    changes: dict[str, Any] = audit.diff(before, audit.snapshot(proposal, ["hidden_at", "hidden_reason"]))
    changes["reason"] = reason.strip()
    pagecache.invalidate("proposals")
    audit.record(actor=actor, action=actions.PROPOSAL_UNHIDE, obj=proposal, changes=changes)
    return proposal
