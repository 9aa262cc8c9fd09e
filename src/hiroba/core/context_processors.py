from __future__ import annotations

from typing import Any

from django.apps import apps
from django.conf import settings
from django.http import HttpRequest


def _nav(attribute: str) -> list[tuple[str, str]]:
    """(url name, label) pairs that the domain apps declare on their AppConfig."""
    items: list[tuple[str, str]] = []
    for config in apps.get_app_configs():
        items.extend(getattr(config, attribute, ()))
    return items


def site(request: HttpRequest) -> dict[str, Any]:
    return {
        "SITE_NAME": settings.HIROBA_SITE_NAME,
        "MUNICIPALITY": settings.HIROBA_MUNICIPALITY,
        "PUBLIC_NAV": _nav("nav_public"),
        "STAFF_NAV": _nav("nav_staff"),
    }
