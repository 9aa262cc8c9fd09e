from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "hiroba.consultations.intake"
    label = "consultations_intake"
    verbose_name = "意見公募の取込み（メール・ファクス・紙・フォームサービス）"
    default_auto_field = "django.db.models.BigAutoField"
    audit_action_labels = "hiroba.consultations.intake.audit_actions.LABELS"  # the audit log (core.audit_labels)
