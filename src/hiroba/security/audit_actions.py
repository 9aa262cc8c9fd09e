"""Audit action names of the security register."""

SYSTEM_CREATE = "security.system_create"
SYSTEM_UPDATE = "security.system_update"
CONTRACTOR_CREATE = "security.contractor_create"
FINDING_IMPORT = "security.finding_import"
FINDING_TRANSITION = "security.finding_transition"
RISK_REQUEST = "security.risk_request"
RISK_DECIDE = "security.risk_decide"
RISK_EXPIRE = "security.risk_expire"
AUDIT_CREATE = "security.audit_create"
ACTION_CREATE = "security.action_create"
ACTION_TRANSITION = "security.action_transition"
INCIDENT_REPORT = "security.incident_report"
INCIDENT_CREATE = "security.incident_create"
INCIDENT_UPDATE = "security.incident_update"
INCIDENT_TRANSITION = "security.incident_transition"
TIMELINE_APPEND = "security.timeline_append"
PLAYBOOK_SAVE = "security.playbook_save"
CHECKLIST_ATTACH = "security.checklist_attach"
CHECKLIST_TICK = "security.checklist_tick"
IMPROVEMENT_CREATE = "security.improvement_create"
IMPROVEMENT_CLOSE = "security.improvement_close"
COURSE_CREATE = "security.course_create"
ATTENDANCE_IMPORT = "security.attendance_import"
POLICY_PUBLISH = "security.policy_publish"
POLICY_ACKNOWLEDGE = "security.policy_acknowledge"
REMINDERS_SEND = "security.reminders_send"
POSTURE_CHECK = "security.posture_check"

from django.utils.translation import gettext_lazy as _  # noqa: E402

#: The audit log's labels (core.audit_labels)
LABELS = {
    SYSTEM_CREATE: _("情報セキュリティ：システムの登録"),
    SYSTEM_UPDATE: _("情報セキュリティ：システムの変更"),
    CONTRACTOR_CREATE: _("情報セキュリティ：委託先の登録"),
    FINDING_IMPORT: _("情報セキュリティ：診断結果の取込み"),
    FINDING_TRANSITION: _("情報セキュリティ：指摘の状態の変更"),
    RISK_REQUEST: _("情報セキュリティ：リスク受容の申請"),
    RISK_DECIDE: _("情報セキュリティ：リスク受容の判断"),
    RISK_EXPIRE: _("情報セキュリティ：リスク受容の期限切れ"),
    AUDIT_CREATE: _("情報セキュリティ：監査の登録"),
    ACTION_CREATE: _("情報セキュリティ：是正措置の登録"),
    ACTION_TRANSITION: _("情報セキュリティ：是正措置の状態の変更"),
    INCIDENT_REPORT: _("情報セキュリティ：インシデントの通報"),
    INCIDENT_CREATE: _("情報セキュリティ：インシデントの登録"),
    INCIDENT_UPDATE: _("情報セキュリティ：インシデントの変更"),
    INCIDENT_TRANSITION: _("情報セキュリティ：インシデントの状態の変更"),
    TIMELINE_APPEND: _("情報セキュリティ：経過の記録"),
    PLAYBOOK_SAVE: _("情報セキュリティ：手順書の保存"),
    CHECKLIST_ATTACH: _("情報セキュリティ：チェックリストの添付"),
    CHECKLIST_TICK: _("情報セキュリティ：チェックリストの確認"),
    IMPROVEMENT_CREATE: _("情報セキュリティ：改善の登録"),
    IMPROVEMENT_CLOSE: _("情報セキュリティ：改善の完了"),
    COURSE_CREATE: _("情報セキュリティ：研修の登録"),
    ATTENDANCE_IMPORT: _("情報セキュリティ：受講記録の取込み"),
    POLICY_PUBLISH: _("情報セキュリティ：ポリシーの公開"),
    POLICY_ACKNOWLEDGE: _("情報セキュリティ：ポリシーの確認"),
    REMINDERS_SEND: _("情報セキュリティ：督促の送信"),
    POSTURE_CHECK: _("情報セキュリティ：点検"),
}
