"""Public home, the staff back office's home and shared pages, and the error pages."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.apps import apps as django_apps
from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import REASON_NO_CSRF_COOKIE
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext
from rules.contrib.views import permission_required

from hiroba.accounts.middleware import has_strong_mfa
from hiroba.accounts.models import StaffMembership
from hiroba.core import audit, audit_labels, context_processors, throttle, todo
from hiroba.core.models import AuditEntry
from hiroba.core.queries import departments_visible_to, search_audit_entries


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html", {"today": timezone.localdate(),
                                              "things_to_do": context_processors.nav("home_public")})


def staff_home(request: HttpRequest) -> HttpResponse:
    user = request.user
    # the staff middleware lets only signed-in staff here; an anonymous user would have no memberships anyway
    memberships = (StaffMembership.objects.filter(user_id=user.pk) if user.is_authenticated
                   else StaffMembership.objects.none()).select_related("department")
    return render(request, "core/staff_home.html", {
        "memberships": memberships,
        "has_mfa": has_strong_mfa(request.user),
        "todos": todo.collect(request.user),
    })


def department_list(request: HttpRequest) -> HttpResponse:
    departments = departments_visible_to(request.user).order_by("sort_order", "code")
    return render(request, "core/department_list.html", {"departments": departments})


def department_detail(request: HttpRequest, code: str) -> HttpResponse:
    # Departments outside the user's scope answer 404: their existence is not disclosed.
    department = get_object_or_404(
        departments_visible_to(request.user).prefetch_related(
            Prefetch("memberships", queryset=StaffMembership.objects.select_related("user"))
        ),
        code=code,
    )
    return render(request, "core/department_detail.html", {"department": department})


@permission_required("core.view_auditentry", raise_exception=True)
def audit_log(request: HttpRequest) -> HttpResponse:
    action = request.GET.get("action", "").strip()
    actor = request.GET.get("actor", "").strip()
    audit.chain_pending()  # the list shows every entry written so far, linked
    page = Paginator(search_audit_entries(action=action, actor=actor), 50).get_page(request.GET.get("page"))
    rows = [{"entry": e, "action": audit_labels.action_label(e.action), "object_type": _model_name(e.object_type),
             "changes": audit_labels.change_lines(e.action, e.changes)} for e in page]
    context: dict[str, Any] = {"page": page, "rows": rows, "action": action, "actor": actor,
                               "actions": audit_labels.action_choices()}
    if request.GET.get("verify"):
        result = audit.verify_chain()
        context["verification"] = {"ok": result.ok, "message": audit_labels.verdict(result),
                                   "detail": "" if result.ok else result.message()}
    return render(request, "core/audit_log.html", context)


def _model_name(object_type: str) -> str:
    """「意見公募の提出」 for consultations.submission; other kinds (url, …) as they are."""
    try:
        model = django_apps.get_model(object_type)
    except (LookupError, ValueError):
        return object_type
    return gettext(str(model._meta.verbose_name))


@permission_required("core.view_auditentry", raise_exception=True)
def throttle_report(request: HttpRequest) -> HttpResponse:
    """What the rate limits refused: per scope and day, and the addresses or identities blocked."""
    scopes = list(settings.HIROBA_RATE_LIMITS)
    audit.chain_pending()
    since = timezone.localdate() - timedelta(days=6)
    blocked: dict[tuple[date, str], int] = {}
    entries = AuditEntry.objects.filter(action="throttle.refused", occurred_at__date__gte=since).order_by("-seq")
    for occurred_at, scope in entries.values_list("occurred_at", "object_repr"):
        key = (timezone.localtime(occurred_at).date(), scope)
        blocked[key] = blocked.get(key, 0) + 1
    days = [(day, [(scope, counts[scope], blocked.get((day, scope), 0)) for scope in scopes
                   if counts[scope] or blocked.get((day, scope))])
            for day, counts in throttle.refused_counts(scopes, days=7)]
    return render(request, "core/throttle.html", {
        "limits": [(scope, settings.HIROBA_RATE_LIMITS[scope]) for scope in scopes], "days": days,
        "recent": entries[:50],
    })


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
