from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProposalsConfig(AppConfig):
    name = "hiroba.proposals"
    label = "proposals"
    verbose_name = "デジタル活用提案"
    default_auto_field = "django.db.models.BigAutoField"
    nav_public = [("proposals:list", _("デジタル活用提案"))]
    nav_staff = [("proposals_staff:list", _("デジタル活用提案")), ("proposals_staff:my_reviews", _("提案の審査"))]
