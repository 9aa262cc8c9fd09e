from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkshopsConfig(AppConfig):
    name = "hiroba.workshops"
    label = "workshops"
    verbose_name = "区民参加型ワークショップ"
    audit_action_labels = "hiroba.workshops.audit_actions.LABELS"  # the audit log (core.audit_labels)
    audit_value_labels = "hiroba.workshops.audit_actions.values"
    default_auto_field = "django.db.models.BigAutoField"
    nav_public = [("workshops:list", _("ワークショップ"))]
    home_public = [("workshops:list", _("区民参加ワークショップに申し込む"))]  # the home page's "このサイトでできること"
    nav_staff = [("workshops_staff:list", _("ワークショップ"))]

    def ready(self) -> None:
        from hiroba.core import audit
        from hiroba.workshops import audit_actions as actions
        from hiroba.workshops.models import Application

        # `hiroba audit verify` reports any application received without its audit entry.
        audit.require_entries(model=Application, action=actions.APPLICATION_SUBMIT)
