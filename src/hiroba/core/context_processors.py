from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, Any]:
    return {
        "SITE_NAME": settings.HIROBA_SITE_NAME,
        "MUNICIPALITY": settings.HIROBA_MUNICIPALITY,
    }
