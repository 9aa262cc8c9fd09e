from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProposalsConfig(AppConfig):
    name = "hiroba.proposals"
    label = "proposals"
    verbose_name = "デジタル活用提案"
    audit_action_labels = "hiroba.proposals.audit_actions.LABELS"  # the audit log (core.audit_labels)
    audit_value_labels = "hiroba.proposals.audit_actions.values"
    default_auto_field = "django.db.models.BigAutoField"
    nav_public = [("proposals:list", _("デジタル活用提案"))]
    home_public = [("proposals:list", _("デジタル活用のアイデアを提案し、投票する"))]  # the home page's "このサイトでできること"
    nav_staff = [("proposals_staff:list", _("デジタル活用提案")), ("proposals_staff:my_reviews", _("提案の審査"))]

    def ready(self) -> None:
        from django.db.models import Q

        from hiroba.core import audit
        from hiroba.proposals import audit_actions as actions
        from hiroba.proposals.models import Call, Participation

        # `hiroba audit verify` reports a paper ballot or a published result without its entry.
        # Online votes are kept out of the audit log on purpose (ballot secrecy, docs/proposals.md).
        audit.require_entries(model=Participation, action=actions.PAPER_BALLOT_ENTER,
                              condition=Q(channel=Participation.Channel.PAPER))
        audit.require_entries(model=Call, action=actions.RESULTS_PUBLISH, condition=Q(result__isnull=False))
