from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NoticesConfig(AppConfig):
    name = "hiroba.notices"
    label = "notices"
    verbose_name = "デジタル書面送付"
    default_auto_field = "django.db.models.BigAutoField"
    nav_public = [("notices:home", _("区からのお知らせ（書面）"))]
    nav_staff = [("notices_staff:home", _("書面送付"))]
    home_public = [("notices:home", _("区からの書面（通知書など）をオンラインで受け取る"))]  # the home page
    audit_action_labels = "hiroba.notices.audit_actions.LABELS"  # the audit log (core.audit_labels)
