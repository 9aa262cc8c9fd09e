from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "hiroba.core"
    label = "core"
    verbose_name = "共通"
    audit_action_labels = "hiroba.core.audit_labels.ACTION_LABELS"  # sign-in, MFA, the admin

    def ready(self) -> None:
        from hiroba.core import audit_hooks  # noqa: F401  (auth events from Django, allauth, axes)
