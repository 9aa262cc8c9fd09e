"""The API's settings, with their defaults (settings.py may override each)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # The licence every response and every dataset carries.
    "API_LICENSE_NAME": "CC BY 4.0",
    "API_LICENSE_URL": "https://creativecommons.org/licenses/by/4.0/deed.ja",
    "API_PAGE_SIZE": 25,
    "API_MAX_PAGE_SIZE": 100,
    "API_TOKEN_MAX_DAYS": 365,
}


def get(name: str) -> Any:
    return getattr(settings, f"HIROBA_{name}", DEFAULTS[name])


def license_info() -> dict[str, str]:
    return {"name": get("API_LICENSE_NAME"), "url": get("API_LICENSE_URL")}
