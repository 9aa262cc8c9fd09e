from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CalendarsConfig(AppConfig):
    name = "hiroba.calendars"
    label = "calendars"
    verbose_name = "学校カレンダー"
    audit_action_labels = "hiroba.calendars.audit_actions.LABELS"  # the audit log (core.audit_labels)
    default_auto_field = "django.db.models.BigAutoField"
    nav_public = [("calendars:index", _("学校カレンダー"))]
    home_public = [("calendars:index", _("学校の行事予定をカレンダーアプリで購読する"))]  # the home page's "このサイトでできること"
    nav_staff = [("calendars_staff:index", _("学校カレンダー"))]
