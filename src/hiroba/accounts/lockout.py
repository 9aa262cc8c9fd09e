"""django-axes hooks: which login an attempt is for, and the Japanese lock-out page."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string


def username_from_request(request: HttpRequest | None, credentials: dict[str, Any] | None) -> str:
    """The login (e-mail) an attempt names, lower-cased, from allauth's credentials or form."""
    value = ""
    if credentials:
        value = str(credentials.get("email") or credentials.get("username") or credentials.get("login") or "")
    if not value and request is not None and request.method == "POST":
        value = str(request.POST.get("login") or request.POST.get("email") or "")
    return value.strip().lower()


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    body = render_to_string(
        "accounts/lockout.html",
        {"minutes": minutes, "failure_limit": settings.AXES_FAILURE_LIMIT},
        request=request,
    )
    response = HttpResponse(body, status=429)
    response["Retry-After"] = str(minutes * 60)
    return response
