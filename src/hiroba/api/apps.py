from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    """The public REST API (/api/v1/), staff access tokens and the open-data catalogue (/opendata/)."""

    name = "hiroba.api"
    label = "api"
    verbose_name = "API・オープンデータ"
    audit_action_labels = "hiroba.api.audit_actions.LABELS"  # the audit log (core.audit_labels)
    default_auto_field = "django.db.models.BigAutoField"
    nav_public = [("opendata:index", _("オープンデータ"))]
    home_public = [("opendata:index", _("区のオープンデータと API を使う"))]  # the home page's "このサイトでできること"
    nav_staff = [("api_staff:tokens", _("APIトークン"))]

    def ready(self) -> None:
        from hiroba.api import webhooks

        webhooks.connect()
