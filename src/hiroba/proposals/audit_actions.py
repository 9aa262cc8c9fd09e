"""Labels of the proposals' audit actions (core.audit_labels)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

LABELS = {
    "proposals.call_create": _("デジタル活用提案：募集の作成"),
    "proposals.call_update": _("デジタル活用提案：募集の変更"),
    "proposals.proposal_submit": _("デジタル活用提案：提案の受付"),
    "proposals.proposal_submit_on_behalf": _("デジタル活用提案：提案の代理入力"),
    "proposals.proposal_revise": _("デジタル活用提案：提案の修正"),
    "proposals.proposal_hide": _("デジタル活用提案：提案の非表示"),
    "proposals.proposal_unhide": _("デジタル活用提案：提案の再表示"),
    "proposals.proposal_decide": _("デジタル活用提案：審査結果の決定"),
    "proposals.proposal_adopt": _("デジタル活用提案：事業化の決定"),
    "proposals.reviewer_add": _("デジタル活用提案：審査員の登録"),
    "proposals.reviews_assign": _("デジタル活用提案：審査の割当て"),
    "proposals.review_submit": _("デジタル活用提案：審査の提出"),
    "proposals.review_conflict": _("デジタル活用提案：利害関係の申告"),
    "proposals.voter_verify": _("デジタル活用提案：投票者の確認"),
    "proposals.voter_link": _("デジタル活用提案：投票者の紐付け"),
    "proposals.voter_revoke": _("デジタル活用提案：投票資格の取消し"),
    "proposals.paper_ballot_enter": _("デジタル活用提案：紙の投票の入力"),
    "proposals.results_publish": _("デジタル活用提案：結果の公表"),
    "proposals.milestone_add": _("デジタル活用提案：事業化の予定の登録"),
    "proposals.milestone_complete": _("デジタル活用提案：事業化の予定の完了"),
    "proposals.followup_update": _("デジタル活用提案：事業化の状況の更新"),
}


def values() -> dict[str, Any]:
    from hiroba.proposals.models import Phase, Proposal

    return {"phase": {str(v): str(label) for v, label in Phase.choices},
            "status": {str(v): str(label) for v, label in Proposal.Status.choices}}
