from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsultationsConfig(AppConfig):
    name = "hiroba.consultations"
    label = "consultations"
    verbose_name = "意見公募（パブリックコメント）"
    default_auto_field = "django.db.models.BigAutoField"
    nav_public = [("consultations:list", _("意見公募"))]
    nav_staff = [("consultations_staff:list", _("意見公募")), ("consultations_staff:routing_queue", _("共有された意見"))]
