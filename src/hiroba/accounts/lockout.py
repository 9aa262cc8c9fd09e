"""django-axes hooks: which login an attempt is for, the Japanese lock-out page, and wrong MFA
codes counted like wrong passwords.

The lock-out is per account *and* address (settings.AXES_LOCKOUT_PARAMETERS): five failures of
one account from one address lock that pair for 30 minutes; the same account from another
address is not affected. See docs/operations.md §6 for the trade-off.
"""

from __future__ import annotations

from typing import Any

from axes.handlers.proxy import AxesProxyHandler
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


def _credentials(user: Any) -> dict[str, str]:
    return {"email": str(getattr(user, "email", "") or "")}


def is_locked_out(request: HttpRequest, user: Any) -> bool:
    """Whether sign-in attempts for `user` from this request's address are locked out now."""
    return not AxesProxyHandler.is_allowed(request, _credentials(user))


def count_mfa_failure(sender: Any, request: HttpRequest | None = None, user: Any = None, **kwargs: Any) -> None:
    """allauth's `mfa.signals.authentication_failed` (a wrong TOTP or recovery code): counted by
    django-axes as a failed sign-in of that account from that address, so guessing codes after a
    leaked password ends in the same lock-out as guessing passwords. When this failure reaches the
    limit, axes marks the request and AxesMiddleware answers with the lock-out page."""
    if request is None or user is None:
        return
    AxesProxyHandler.user_login_failed(sender=sender, credentials=_credentials(user), request=request)
