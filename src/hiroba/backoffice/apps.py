from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    """The staff shell (/staff/): the staff home, departments, the audit log and the rate-limit report.

    It sits on top of the layers (docs/decisions/0009-import-contracts.md): it may use accounts and
    core, and core knows nothing of it.
    """

    name = "hiroba.backoffice"
    label = "backoffice"
    verbose_name = "職員業務画面"
