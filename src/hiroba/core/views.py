"""Public home and the error pages (the staff shell is hiroba.backoffice.views)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import REASON_NO_CSRF_COOKIE
from django.shortcuts import render
from django.utils import timezone

from hiroba.core import context_processors


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html", {"today": timezone.localdate(),
                                              "things_to_do": context_processors.nav("home_public")})


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
