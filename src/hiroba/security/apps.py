from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SecurityConfig(AppConfig):
    name = "hiroba.security"
    label = "security"
    verbose_name = "情報セキュリティ"
    audit_action_labels = "hiroba.security.audit_actions.LABELS"  # the audit log (core.audit_labels)
    default_auto_field = "django.db.models.BigAutoField"
    nav_public = [("security:report", _("セキュリティに関するご連絡"))]
    home_public = [("security:report", _("情報セキュリティ上の問題を区に知らせる"))]  # the home page's "このサイトでできること"
    nav_staff = [("security_staff:home", _("情報セキュリティ"))]
