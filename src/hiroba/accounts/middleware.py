"""The staff area's gate: sign-in, staff-only, MFA enrolled, session limits — in one place.

Every URL under a staff prefix (/staff/, /admin/) passes here. Refusals are written to the
audit log and answered with a Japanese page and the right status.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlencode

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from hiroba.core import audit

STAFF_PREFIXES = ("/staff/", "/admin/")
LOGIN_AT = "hiroba_login_at"


def has_strong_mfa(user: object) -> bool:
    return Authenticator.objects.filter(
        user=user, type__in=[Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]
    ).exists()


def _denied(request: HttpRequest, status: int, reason: str) -> None:
    audit.record(
        actor=request.user, action=audit.AuditAction.ACCESS_DENIED, object_type="url",
        object_repr=request.path[:300],
        changes={"status": status, "reason": reason, "method": request.method},
    )


def unauthorized(request: HttpRequest, *, expired: bool = False) -> HttpResponse:
    login_url = reverse("account_login") + "?" + urlencode({"next": request.get_full_path()})
    response = render(request, "401.html", {"login_url": login_url, "expired": expired}, status=401)
    response["WWW-Authenticate"] = 'FormBased realm="hiroba"'
    return response


class StaffAreaMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated and user.is_staff_member:
            expired = self._enforce_session_limits(request)
            if expired and request.path.startswith(STAFF_PREFIXES):
                _denied(request, 401, "session expired")
                return unauthorized(request, expired=True)
        if request.path.startswith(STAFF_PREFIXES):
            refusal = self._gate(request)
            if refusal is not None:
                return refusal
        return self.get_response(request)

    def _enforce_session_limits(self, request: HttpRequest) -> bool:
        """Sliding idle expiry plus an absolute limit per sign-in. True when it just expired."""
        now = int(time.time())
        started = request.session.get(LOGIN_AT)
        if started is None:
            request.session[LOGIN_AT] = now
        elif now - int(started) > settings.STAFF_SESSION_MAX_SECONDS:
            logout(request)
            return True
        request.session.set_expiry(settings.STAFF_SESSION_IDLE_SECONDS)
        return False

    def _gate(self, request: HttpRequest) -> HttpResponse | None:
        user = request.user
        if not user.is_authenticated:
            _denied(request, 401, "not signed in")
            return unauthorized(request, expired=bool(request.COOKIES.get(settings.SESSION_COOKIE_NAME)))
        if not user.is_staff_member:
            _denied(request, 403, "not staff")
            return render(request, "403.html", {"reason": _("職員専用のページです。")}, status=403)
        if not has_strong_mfa(user):
            messages.warning(
                request,
                "職員の方は二要素認証（認証アプリ）の設定が必要です。設定すると職員ページを利用できます。",
            )
            return HttpResponseRedirect(
                reverse("mfa_activate_totp") + "?" + urlencode({"next": request.get_full_path()})
            )
        return None

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        if request.path.startswith(STAFF_PREFIXES) and isinstance(exception, (PermissionDenied, Http404)):
            status = 403 if isinstance(exception, PermissionDenied) else 404
            _denied(request, status, type(exception).__name__)
        return None
