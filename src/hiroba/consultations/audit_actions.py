"""Labels of the consultations' audit actions, their changes' keys and values (core.audit_labels)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

# The action names (``audit.record(action=…)``); every one has a label below.
CASE_CREATE = "consultations.case_create"
CASE_TRANSITION = "consultations.case_transition"
CASE_UPDATE_DETAILS = "consultations.case_update_details"
CASE_PROOF_OF_WORK = "consultations.case_proof_of_work"
CASE_PUBLISH = "consultations.case_publish"
CASE_IMPORT = "consultations.case_import"
PUBLICATION_IMPORT = "consultations.publication_import"
SECTION_ADD = "consultations.section_add"
SUBMISSION_RECEIVE = "consultations.submission_receive"
SUBMISSION_CONFIRM_EMAIL = "consultations.submission_confirm_email"
SUBMITTERS_EXPORT = "consultations.submitters_export"
ITEM_CREATE = "consultations.item_create"
ITEM_UPDATE = "consultations.item_update"
ITEM_EXCLUDE = "consultations.item_exclude"
ITEM_INCLUDE = "consultations.item_include"
ITEM_WITHDRAW = "consultations.item_withdraw"
ANSWER_WRITE = "consultations.answer_write"
ANSWER_UPDATE = "consultations.answer_update"
ANSWER_ASSIGN = "consultations.answer_assign"
ANSWER_MANY = "consultations.answer_many"
ONE_ROW_UNDO = "consultations.one_row_undo"
STANDARD_ANSWER_CREATE = "consultations.standard_answer_create"
ROUTING_CREATE = "consultations.routing_create"
ROUTING_COMPLETE = "consultations.routing_complete"
APPROVAL_ROUTE_SET = "consultations.approval_route_set"
APPROVAL_REQUEST = "consultations.approval_request"
APPROVAL_APPROVE = "consultations.approval_approve"
APPROVAL_RETURN = "consultations.approval_return"
APPROVAL_REOPEN = "consultations.approval_reopen"
MASK_ADD = "consultations.mask_add"
MASK_DECIDE = "consultations.mask_decide"
MASKS_FROM_ANALYSIS = "consultations.masks_from_analysis"
IMPERSONATION_REPORT = "consultations.impersonation_report"
IMPERSONATION_REVIEW = "consultations.impersonation_review"
IMPORT_DEPARTMENT = "consultations.import_department"
ANALYSIS_REQUEST = "consultations.analysis_request"
ANALYSIS_DONE = "consultations.analysis_done"
ANALYSIS_FAIL = "consultations.analysis_fail"

LABELS = {
    CASE_CREATE: _("意見公募：案件の作成"),
    CASE_TRANSITION: _("意見公募：状態の変更"),
    CASE_UPDATE_DETAILS: _("意見公募：提出先・公表予定日の変更"),
    CASE_PROOF_OF_WORK: _("意見公募：大量送信対策（送信前の自動確認）の切替え"),
    CASE_PUBLISH: _("意見公募：結果の公表"),
    CASE_IMPORT: _("意見公募：過去の案件の取込み"),
    PUBLICATION_IMPORT: _("意見公募：過去の結果の取込み"),
    SECTION_ADD: _("意見公募：見出しの登録"),
    SUBMISSION_RECEIVE: _("意見公募：意見の受付"),
    SUBMISSION_CONFIRM_EMAIL: _("意見公募：メールアドレスの確認"),
    SUBMITTERS_EXPORT: _("意見公募：提出者の一覧の書き出し"),
    ITEM_CREATE: _("意見公募：意見の作成（分割）"),
    ITEM_UPDATE: _("意見公募：意見の変更"),
    ITEM_EXCLUDE: _("意見公募：意見を対象外にする"),
    ITEM_INCLUDE: _("意見公募：意見を対象に戻す"),
    ITEM_WITHDRAW: _("意見公募：意見の取下げ"),
    ANSWER_WRITE: _("意見公募：回答の作成"),
    ANSWER_UPDATE: _("意見公募：回答の変更"),
    ANSWER_ASSIGN: _("意見公募：回答の割当て"),
    ANSWER_MANY: _("意見公募：同趣旨の意見への回答"),
    ONE_ROW_UNDO: _("意見公募：一つの行での公表の取消し"),
    STANDARD_ANSWER_CREATE: _("意見公募：定型回答の登録"),
    ROUTING_CREATE: _("意見公募：担当部署への共有"),
    ROUTING_COMPLETE: _("意見公募：共有への回答"),
    APPROVAL_ROUTE_SET: _("意見公募：決裁の経路の設定"),
    APPROVAL_REQUEST: _("意見公募：決裁に回す"),
    APPROVAL_APPROVE: _("意見公募：決裁（承認）"),
    APPROVAL_RETURN: _("意見公募：決裁（差戻し）"),
    APPROVAL_REOPEN: _("意見公募：回答作成中に戻す"),
    MASK_ADD: _("意見公募：非公開の箇所の追加"),
    MASK_DECIDE: _("意見公募：個人情報の判断"),
    MASKS_FROM_ANALYSIS: _("意見公募：分析からの非公開の提案"),
    IMPERSONATION_REPORT: _("意見公募：なりすまし申告"),
    IMPERSONATION_REVIEW: _("意見公募：なりすまし申告の確認"),
    IMPORT_DEPARTMENT: _("意見公募：取込み時の所属の作成"),
    ANALYSIS_REQUEST: _("意見公募：分析の開始"),
    ANALYSIS_DONE: _("意見公募：分析の完了"),
    ANALYSIS_FAIL: _("意見公募：分析の失敗"),
}
FIELDS = {
    "channel": _("提出方法"), "identity_status": _("本人確認"), "submission": _("受付番号"), "item": _("意見"),
    "sections": _("該当箇所"), "span": _("範囲（開始・終了）"), "round": _("決裁の回"), "step": _("段階"),
    "route": _("経路"), "closed_on": _("受付終了日"), "results_due_on": _("結果の公表予定日"),
    "correction_note": _("訂正の内容"), "decision": _("判断"), "reflection": _("反映区分"),
    "excluded": _("対象外"), "withdrawn": _("取下げ"), "exclude_reason": _("対象外の理由"),
    "exclude_category": _("対象外の区分"), "withdraw_reason": _("取下げの理由"), "response": _("回答"),
    "reported_on": _("公表日"), "heading": _("見出し"), "draft_pdf": _("案のPDF"), "identity_level": _("本人確認の方法"),
    "period_start": _("募集開始日"), "period_end": _("募集最終日"), "channels": _("提出方法"),
    "announced_in": _("周知方法"), "department_id": _("担当の所属"), "eligibility": _("提出できる方"),
    "legal_basis": _("根拠"), "short_period_reason": _("募集期間が短い理由"), "receipt_code": _("受付番号の記号"),
    "slug": _("識別子"), "answers": _("回答"), "answer": _("回答"), "items": _("意見"), "kind": _("種類"),
    "field": _("項目"), "start": _("開始位置"), "end": _("終了位置"), "uphold": _("申告を認める"),
}
#: The models' names (Meta.verbose_name), marked for the catalogue: the audit log's 対象 column
#: translates them when it shows them (backoffice.views._model_name).
MODEL_NAMES = [
    gettext_noop("案件"),
    gettext_noop("該当箇所"),
    gettext_noop("提出された意見"),
    gettext_noop("回答"),
    gettext_noop("回答の版"),
    gettext_noop("意見（項目）"),
    gettext_noop("定型回答"),
    gettext_noop("担当部署への共有"),
    gettext_noop("決裁の段階"),
    gettext_noop("決裁"),
    gettext_noop("決裁の記録"),
    gettext_noop("公表した結果"),
    gettext_noop("公表したファイル"),
    gettext_noop("個人情報のマスキング"),
    gettext_noop("なりすまし申告"),
    gettext_noop("意見の分析"),
    gettext_noop("意見ごとの分析結果"),
]


def values() -> dict[str, Any]:
    """Values as the screens name them: the models' choices."""
    from hiroba.consultations.models import (
        ApprovalRound,
        Case,
        Category,
        Channel,
        ExcludeCategory,
        IdentityLevel,
        ImpersonationReport,
        Mask,
        Reflection,
        Routing,
        Submission,
    )

    def choices(*enums: Any) -> dict[str, str]:
        return {str(v): str(label) for enum in enums for v, label in enum.choices}

    return {
        "state": choices(Case.State), "channel": choices(Channel), "channels": choices(Channel),
        "identity_status": choices(Submission.IdentityStatus), "identity_level": choices(IdentityLevel),
        "category": choices(Category), "exclude_category": choices(ExcludeCategory),
        "reflection": choices(Reflection), "decision": choices(Mask.Decision),
        "consultations.routing_complete:state": choices(Routing.State),
        "consultations.impersonation_review:state": choices(ImpersonationReport.State),
        "consultations.approval_request:round_state": choices(ApprovalRound.State),
    }
