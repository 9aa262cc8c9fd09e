"""Audit action names of the intake channels."""

ENTRY_RECEIVE = "consultations_intake.entry_receive"  # an Entry made a submission by itself (自動取込)
ENTRY_HOLD = "consultations_intake.entry_hold"  # an Entry waits for staff (要確認), with its reason
ENTRY_CONFIRM = "consultations_intake.entry_confirm"  # staff confirmed it: a submission (確定)
ENTRY_REJECT = "consultations_intake.entry_reject"  # staff decided not to take it (不受理)
MAPPING_SAVE = "consultations_intake.mapping_save"
EXPORT_IMPORT = "consultations_intake.export_import"
SCAN_QUEUE = "consultations_intake.scan_queue"
