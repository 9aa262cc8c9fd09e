"""Public home and the error pages (the staff shell is hiroba.backoffice.views)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.csrf import REASON_NO_CSRF_COOKIE
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import check_for_language
from django.views.decorators.cache import never_cache

from hiroba.core import context_processors


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html", {"today": timezone.localdate(),
                                              "things_to_do": context_processors.nav("home_public")})


@never_cache
def language(request: HttpRequest) -> HttpResponse:
    """The header's language switch: a GET (no CSRF token in the page, so public pages can be
    cached whole) that keeps the choice in the language cookie and goes back to `next` on this
    site. Django's set_language (POST, /i18n/setlang/) still works for older pages and links."""
    next_url = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        next_url = "/"
    response = HttpResponseRedirect(next_url)
    code = request.GET.get("language", "")
    if code in dict(settings.LANGUAGES) and check_for_language(code):
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME, code, max_age=settings.LANGUAGE_COOKIE_AGE,
            path=settings.LANGUAGE_COOKIE_PATH, domain=settings.LANGUAGE_COOKIE_DOMAIN,
            secure=settings.LANGUAGE_COOKIE_SECURE, httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,  # type: ignore[arg-type]  # "Lax" (settings)
        )
    return response


def bad_request(request: HttpRequest, *, reason: str = "") -> HttpResponse:
    """400 in Japanese: `reason` says what was wrong ("encoding", "fields", or a generic one)."""
    return render(request, "400.html", {"reason": reason}, status=400)


def error_400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's 400s (a malformed request, a body over DATA_UPLOAD_MAX_MEMORY_SIZE, too many fields)."""
    if isinstance(exception, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // (1024 * 1024)
        return render(request, "413.html", {"limit_mb": limit}, status=413)
    if isinstance(exception, TooManyFieldsSent | TooManyFilesSent):
        return bad_request(request, reason="fields")
    return bad_request(request)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: the page went stale or cookies are off; never Django's page about DEBUG."""
    return render(request, "csrf.html", {"no_cookie": reason == REASON_NO_CSRF_COOKIE}, status=403)


def error_403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", {"reason": ""}, status=403)


def error_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


def error_500(request: HttpRequest) -> HttpResponse:
    import sys

    from django.db import InterfaceError, OperationalError

    from hiroba.core import health

    if isinstance(sys.exc_info()[1], OperationalError | InterfaceError):
        # The database is away (restarting, connection dropped): 503 and the Japanese page, drawn
        # without it; the next request connects afresh.
        return health.unavailable(request)
    return render(request, "500.html", status=500)
