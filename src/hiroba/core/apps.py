from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "hiroba.core"
    label = "core"
    verbose_name = "共通"

    def ready(self) -> None:
        from hiroba.core import audit_hooks  # noqa: F401  (auth events from Django, allauth, axes)
