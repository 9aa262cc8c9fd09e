from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsultationsConfig(AppConfig):
    name = "hiroba.consultations"
    label = "consultations"
    verbose_name = "意見公募（パブリックコメント）"
    default_auto_field = "django.db.models.BigAutoField"
    nav_public = [("consultations:list", _("意見公募"))]
    home_public = [("consultations:list", _("区の計画案などに意見を出す（パブリックコメント）"))]  # the home page's "このサイトでできること"
    staff_todos = "hiroba.consultations.todo.todos"  # the staff home's to-do list (core.todo)
    health_gauges = {  # /metrics (core.health)
        "hiroba_submissions_last_minute": ("Opinions received (all cases) in the last 60 seconds.",
                                           "hiroba.consultations.health.submissions_last_minute"),
    }
    audit_action_labels = "hiroba.consultations.audit_actions.LABELS"  # the audit log (core.audit_labels)
    audit_field_labels = "hiroba.consultations.audit_actions.FIELDS"
    audit_value_labels = "hiroba.consultations.audit_actions.values"
    nav_staff = [("consultations_staff:list", _("意見公募")), ("consultations_staff:routing_queue", _("共有された意見"))]

    def ready(self) -> None:
        from hiroba.consultations import audit_actions
        from hiroba.consultations.models import Submission
        from hiroba.core import audit

        # `hiroba audit verify` reports any opinion received without its audit entry.
        audit.require_entries(model=Submission, action=audit_actions.SUBMISSION_RECEIVE)
