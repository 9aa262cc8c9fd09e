"""Labels of the workshops' audit actions (core.audit_labels)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

LABELS = {
    "workshops.programme_create": _("ワークショップ：募集の作成"),
    "workshops.programme_update": _("ワークショップ：募集の変更"),
    "workshops.quota_set": _("ワークショップ：枠の設定"),
    "workshops.session_create": _("ワークショップ：回の作成"),
    "workshops.session_update": _("ワークショップ：回の変更"),
    "workshops.application_submit": _("ワークショップ：申込み"),
    "workshops.application_duplicate": _("ワークショップ：重複した申込み"),
    "workshops.application_consent": _("ワークショップ：保護者の同意"),
    "workshops.consent_resend": _("ワークショップ：同意依頼の再送"),
    "workshops.applications_lapse": _("ワークショップ：同意期限切れ"),
    "workshops.application_withdraw": _("ワークショップ：辞退"),
    "workshops.application_promote": _("ワークショップ：補欠からの繰上げ"),
    "workshops.lottery_publish": _("ワークショップ：抽選の条件の公開"),
    "workshops.lottery_draw": _("ワークショップ：抽選"),
    "workshops.lottery_refused": _("ワークショップ：抽選の拒否"),
    "workshops.selection_first_come": _("ワークショップ：先着順の選考"),
    "workshops.attendance_record": _("ワークショップ：出欠の記録"),
    "workshops.output_create": _("ワークショップ：成果物の登録"),
    "workshops.outputs_submit": _("ワークショップ：成果物の提出"),
    "workshops.export": _("ワークショップ：名簿の書き出し"),
    "workshops.purge": _("ワークショップ：個人情報の消去"),
}


def values() -> dict[str, Any]:
    from hiroba.workshops.models import Application

    return {"status": {str(v): str(label) for v, label in Application.Status.choices}}
