from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SurveysConfig(AppConfig):
    name = "hiroba.surveys"
    label = "surveys"
    verbose_name = "アンケート"
    audit_action_labels = "hiroba.surveys.audit_actions.LABELS"  # the audit log (core.audit_labels)
    default_auto_field = "django.db.models.BigAutoField"
    nav_staff = [("surveys_staff:list", _("アンケート"))]
