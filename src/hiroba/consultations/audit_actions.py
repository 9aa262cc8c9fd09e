"""Labels of the consultations' audit actions, their changes' keys and values (core.audit_labels)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

LABELS = {
    "consultations.case_create": _("意見公募：案件の作成"),
    "consultations.case_transition": _("意見公募：状態の変更"),
    "consultations.case_update_details": _("意見公募：提出先・公表予定日の変更"),
    "consultations.case_publish": _("意見公募：結果の公表"),
    "consultations.case_import": _("意見公募：過去の案件の取込み"),
    "consultations.publication_import": _("意見公募：過去の結果の取込み"),
    "consultations.section_add": _("意見公募：見出しの登録"),
    "consultations.submission_receive": _("意見公募：意見の受付"),
    "consultations.submission_confirm_email": _("意見公募：メールアドレスの確認"),
    "consultations.submitters_export": _("意見公募：提出者の一覧の書き出し"),
    "consultations.item_create": _("意見公募：意見の作成（分割）"),
    "consultations.item_update": _("意見公募：意見の変更"),
    "consultations.item_exclude": _("意見公募：意見を対象外にする"),
    "consultations.item_include": _("意見公募：意見を対象に戻す"),
    "consultations.item_withdraw": _("意見公募：意見の取下げ"),
    "consultations.answer_write": _("意見公募：回答の作成"),
    "consultations.answer_update": _("意見公募：回答の変更"),
    "consultations.answer_assign": _("意見公募：回答の割当て"),
    "consultations.answer_many": _("意見公募：同趣旨の意見への回答"),
    "consultations.one_row_undo": _("意見公募：一つの行での公表の取消し"),
    "consultations.standard_answer_create": _("意見公募：定型回答の登録"),
    "consultations.routing_create": _("意見公募：担当部署への共有"),
    "consultations.routing_complete": _("意見公募：共有への回答"),
    "consultations.approval_route_set": _("意見公募：決裁の経路の設定"),
    "consultations.approval_request": _("意見公募：決裁に回す"),
    "consultations.approval_approve": _("意見公募：決裁（承認）"),
    "consultations.approval_return": _("意見公募：決裁（差戻し）"),
    "consultations.approval_reopen": _("意見公募：回答作成中に戻す"),
    "consultations.mask_add": _("意見公募：非公開の箇所の追加"),
    "consultations.mask_decide": _("意見公募：個人情報の判断"),
    "consultations.masks_from_analysis": _("意見公募：分析からの非公開の提案"),
    "consultations.impersonation_report": _("意見公募：なりすまし申告"),
    "consultations.impersonation_review": _("意見公募：なりすまし申告の確認"),
    "consultations.import_department": _("意見公募：取込み時の所属の作成"),
    "consultations.analysis_request": _("意見公募：分析の開始"),
    "consultations.analysis_done": _("意見公募：分析の完了"),
    "consultations.analysis_fail": _("意見公募：分析の失敗"),
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
#: translates them when it shows them (core.views._model_name).
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
