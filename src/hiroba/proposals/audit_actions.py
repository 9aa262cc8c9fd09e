"""Audit action names of the proposals app, and their labels (core.audit_labels)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from hiroba.accounts import audit_actions as accounts_actions

CALL_CREATE = "proposals.call_create"
CALL_UPDATE = "proposals.call_update"
PROPOSAL_SUBMIT = "proposals.proposal_submit"
PROPOSAL_SUBMIT_ON_BEHALF = "proposals.proposal_submit_on_behalf"
PROPOSAL_REVISE = "proposals.proposal_revise"
PROPOSAL_HIDE = "proposals.proposal_hide"
PROPOSAL_UNHIDE = "proposals.proposal_unhide"
PROPOSAL_DECIDE = "proposals.proposal_decide"
PROPOSAL_ADOPT = "proposals.proposal_adopt"
REVIEWER_ADD = "proposals.reviewer_add"
REVIEWS_ASSIGN = "proposals.reviews_assign"
REVIEW_SUBMIT = "proposals.review_submit"
REVIEW_CONFLICT = "proposals.review_conflict"
# The stored verification is hiroba.accounts' (labelled there); the former names stay.
VOTER_VERIFY = accounts_actions.VERIFICATION_RECORD
VOTER_LINK = accounts_actions.VERIFICATION_LINK
VOTER_REVOKE = accounts_actions.VERIFICATION_REVOKE
PAPER_BALLOT_ENTER = "proposals.paper_ballot_enter"
RESULTS_PUBLISH = "proposals.results_publish"
MILESTONE_ADD = "proposals.milestone_add"
MILESTONE_COMPLETE = "proposals.milestone_complete"
FOLLOWUP_UPDATE = "proposals.followup_update"

LABELS = {
    CALL_CREATE: _("デジタル活用提案：募集の作成"),
    CALL_UPDATE: _("デジタル活用提案：募集の変更"),
    PROPOSAL_SUBMIT: _("デジタル活用提案：提案の受付"),
    PROPOSAL_SUBMIT_ON_BEHALF: _("デジタル活用提案：提案の代理入力"),
    PROPOSAL_REVISE: _("デジタル活用提案：提案の修正"),
    PROPOSAL_HIDE: _("デジタル活用提案：提案の非表示"),
    PROPOSAL_UNHIDE: _("デジタル活用提案：提案の再表示"),
    PROPOSAL_DECIDE: _("デジタル活用提案：審査結果の決定"),
    PROPOSAL_ADOPT: _("デジタル活用提案：事業化の決定"),
    REVIEWER_ADD: _("デジタル活用提案：審査員の登録"),
    REVIEWS_ASSIGN: _("デジタル活用提案：審査の割当て"),
    REVIEW_SUBMIT: _("デジタル活用提案：審査の提出"),
    REVIEW_CONFLICT: _("デジタル活用提案：利害関係の申告"),
    PAPER_BALLOT_ENTER: _("デジタル活用提案：紙の投票の入力"),
    RESULTS_PUBLISH: _("デジタル活用提案：結果の公表"),
    MILESTONE_ADD: _("デジタル活用提案：事業化の予定の登録"),
    MILESTONE_COMPLETE: _("デジタル活用提案：事業化の予定の完了"),
    FOLLOWUP_UPDATE: _("デジタル活用提案：事業化の状況の更新"),
}


def values() -> dict[str, Any]:
    from hiroba.proposals.models import Phase, Proposal

    return {"phase": {str(v): str(label) for v, label in Phase.choices},
            "status": {str(v): str(label) for v, label in Proposal.Status.choices}}
