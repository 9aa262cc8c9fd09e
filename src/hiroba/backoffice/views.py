"""The staff shell (/staff/): the staff home, departments, the audit log, the rate-limit report."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.apps import apps as django_apps
from django.conf import settings
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext
from rules.contrib.views import permission_required

from hiroba.accounts.middleware import has_strong_mfa
from hiroba.accounts.models import StaffMembership
from hiroba.backoffice.queries import departments_visible_to, search_audit_entries
from hiroba.core import audit, audit_labels, throttle, todo
from hiroba.core.models import AuditEntry
from hiroba.core.paging import page_of


def staff_home(request: HttpRequest) -> HttpResponse:
    user = request.user
    # the staff middleware lets only signed-in staff here; an anonymous user would have no memberships anyway
    memberships = (StaffMembership.objects.filter(user_id=user.pk) if user.is_authenticated
                   else StaffMembership.objects.none()).select_related("department")
    return render(request, "backoffice/staff_home.html", {
        "memberships": memberships,
        "has_mfa": has_strong_mfa(request.user),
        "todos": todo.collect(request.user),
    })


def department_list(request: HttpRequest) -> HttpResponse:
    departments = departments_visible_to(request.user).order_by("sort_order", "code")
    return render(request, "backoffice/department_list.html", {"departments": departments})


def department_detail(request: HttpRequest, code: str) -> HttpResponse:
    # Departments outside the user's scope answer 404: their existence is not disclosed.
    department = get_object_or_404(
        departments_visible_to(request.user).prefetch_related(
            Prefetch("memberships", queryset=StaffMembership.objects.select_related("user"))
        ),
        code=code,
    )
    return render(request, "backoffice/department_detail.html", {"department": department})


@permission_required("core.view_auditentry", raise_exception=True)
def audit_log(request: HttpRequest) -> HttpResponse:
    action = request.GET.get("action", "").strip()
    actor = request.GET.get("actor", "").strip()
    audit.chain_pending()  # the list shows every entry written so far, linked
    page = page_of(request, search_audit_entries(action=action, actor=actor), 50)
    rows = [{"entry": e, "action": audit_labels.action_label(e.action), "object_type": _model_name(e.object_type),
             "changes": audit_labels.change_lines(e.action, e.changes)} for e in page]
    context: dict[str, Any] = {"page": page, "rows": rows, "action": action, "actor": actor,
                               "actions": audit_labels.action_choices()}
    if request.GET.get("verify"):
        result = audit.verify_chain()
        context["verification"] = {"ok": result.ok, "message": audit_labels.verdict(result),
                                   "detail": "" if result.ok else result.message()}
    return render(request, "backoffice/audit_log.html", context)


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
    entries = AuditEntry.objects.filter(action=audit.AuditAction.THROTTLE_REFUSED, occurred_at__date__gte=since).order_by("-seq")
    for occurred_at, scope in entries.values_list("occurred_at", "object_repr"):
        key = (timezone.localtime(occurred_at).date(), scope)
        blocked[key] = blocked.get(key, 0) + 1
    days = [(day, [(scope, counts[scope], blocked.get((day, scope), 0)) for scope in scopes
                   if counts[scope] or blocked.get((day, scope))])
            for day, counts in throttle.refused_counts(scopes, days=7)]
    return render(request, "backoffice/throttle.html", {
        "limits": [(scope, settings.HIROBA_RATE_LIMITS[scope]) for scope in scopes], "days": days,
        "recent": entries[:50],
    })
