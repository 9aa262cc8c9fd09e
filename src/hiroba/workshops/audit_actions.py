"""The workshops' audit action names (use these constants in `audit.record(action=…)`) and
their labels (core.audit_labels)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

PROGRAMME_CREATE = "workshops.programme_create"
PROGRAMME_UPDATE = "workshops.programme_update"
QUOTA_SET = "workshops.quota_set"
SESSION_CREATE = "workshops.session_create"
SESSION_UPDATE = "workshops.session_update"
APPLICATION_SUBMIT = "workshops.application_submit"
APPLICATION_DUPLICATE = "workshops.application_duplicate"
APPLICATION_CONSENT = "workshops.application_consent"
CONSENT_RESEND = "workshops.consent_resend"
APPLICATIONS_LAPSE = "workshops.applications_lapse"
APPLICATION_WITHDRAW = "workshops.application_withdraw"
APPLICATION_PROMOTE = "workshops.application_promote"
LOTTERY_PUBLISH = "workshops.lottery_publish"
LOTTERY_DRAW = "workshops.lottery_draw"
LOTTERY_REFUSED = "workshops.lottery_refused"
SELECTION_FIRST_COME = "workshops.selection_first_come"
ATTENDANCE_RECORD = "workshops.attendance_record"
OUTPUT_CREATE = "workshops.output_create"
OUTPUTS_SUBMIT = "workshops.outputs_submit"
EXPORT = "workshops.export"
PURGE = "workshops.purge"

LABELS = {
    PROGRAMME_CREATE: _("ワークショップ：募集の作成"),
    PROGRAMME_UPDATE: _("ワークショップ：募集の変更"),
    QUOTA_SET: _("ワークショップ：枠の設定"),
    SESSION_CREATE: _("ワークショップ：回の作成"),
    SESSION_UPDATE: _("ワークショップ：回の変更"),
    APPLICATION_SUBMIT: _("ワークショップ：申込み"),
    APPLICATION_DUPLICATE: _("ワークショップ：重複した申込み"),
    APPLICATION_CONSENT: _("ワークショップ：保護者の同意"),
    CONSENT_RESEND: _("ワークショップ：同意依頼の再送"),
    APPLICATIONS_LAPSE: _("ワークショップ：同意期限切れ"),
    APPLICATION_WITHDRAW: _("ワークショップ：辞退"),
    APPLICATION_PROMOTE: _("ワークショップ：補欠からの繰上げ"),
    LOTTERY_PUBLISH: _("ワークショップ：抽選の条件の公開"),
    LOTTERY_DRAW: _("ワークショップ：抽選"),
    LOTTERY_REFUSED: _("ワークショップ：抽選の拒否"),
    SELECTION_FIRST_COME: _("ワークショップ：先着順の選考"),
    ATTENDANCE_RECORD: _("ワークショップ：出欠の記録"),
    OUTPUT_CREATE: _("ワークショップ：成果物の登録"),
    OUTPUTS_SUBMIT: _("ワークショップ：成果物の提出"),
    EXPORT: _("ワークショップ：名簿の書き出し"),
    PURGE: _("ワークショップ：個人情報の消去"),
}


def values() -> dict[str, Any]:
    from hiroba.workshops.models import Application

    return {"status": {str(v): str(label) for v, label in Application.Status.choices}}
