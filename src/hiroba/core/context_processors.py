from __future__ import annotations

from typing import Any

from django.apps import apps
from django.conf import settings
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse


def nav(attribute: str) -> list[tuple[str, str]]:
    """(url, label) pairs from what the domain apps declare on their AppConfig.

    An entry whose URL does not resolve (an app installed without that page) is left out
    rather than breaking every page.
    """
    items: list[tuple[str, str]] = []
    for config in apps.get_app_configs():
        for url_name, label in getattr(config, attribute, ()):
            try:
                items.append((reverse(url_name), label))
            except NoReverseMatch:
                continue
    return items


def site(request: HttpRequest) -> dict[str, Any]:
    return {
        "SITE_NAME": settings.HIROBA_SITE_NAME,
        "MUNICIPALITY": settings.HIROBA_MUNICIPALITY,
        "PUBLIC_NAV": nav("nav_public"),
        "STAFF_NAV": nav("nav_staff"),
    }
