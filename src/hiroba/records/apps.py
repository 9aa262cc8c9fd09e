from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecordsConfig(AppConfig):
    name = "hiroba.records"
    label = "records"
    verbose_name = "電子文書管理"
    audit_action_labels = "hiroba.records.audit_actions.LABELS"  # the audit log (core.audit_labels)
    default_auto_field = "django.db.models.BigAutoField"
    nav_public = [("records:register", _("行政文書ファイル管理簿"))]
    home_public = [("records:register", _("区が保存している行政文書ファイルの一覧を見る"))]  # the home page's "このサイトでできること"
    nav_staff = [("records_staff:home", _("電子文書管理"))]
