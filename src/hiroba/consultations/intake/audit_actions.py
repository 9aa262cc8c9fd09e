"""Audit action names of the intake channels, and how the audit log names them."""

from django.utils.translation import gettext_lazy as _

ENTRY_RECEIVE = "consultations_intake.entry_receive"  # an Entry made a submission by itself (自動取込)
ENTRY_HOLD = "consultations_intake.entry_hold"  # an Entry waits for staff (要確認), with its reason
ENTRY_CONFIRM = "consultations_intake.entry_confirm"  # staff confirmed it: a submission (確定)
ENTRY_REJECT = "consultations_intake.entry_reject"  # staff decided not to take it (不受理)
MAPPING_SAVE = "consultations_intake.mapping_save"
EXPORT_IMPORT = "consultations_intake.export_import"
SCAN_QUEUE = "consultations_intake.scan_queue"

LABELS = {
    ENTRY_RECEIVE: _("意見公募の取込み：自動取込"),
    ENTRY_HOLD: _("意見公募の取込み：要確認"),
    ENTRY_CONFIRM: _("意見公募の取込み：確定"),
    ENTRY_REJECT: _("意見公募の取込み：不受理"),
    MAPPING_SAVE: _("意見公募の取込み：列の対応の保存"),
    EXPORT_IMPORT: _("意見公募の取込み：フォームサービスの取込み"),
    SCAN_QUEUE: _("意見公募の取込み：スキャンの登録"),
}
