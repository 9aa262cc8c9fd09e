"""Reads scoped to what a staff member may see.

Programmes follow the foundation's rule (a role on the organising department or above it;
system administrators see every programme). Applicants are minors: their data is shown only to
staff who hold a role in the organising department (or a department above it) themselves — the
system administrator's all-departments reach does not extend to it.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from hiroba.accounts import permissions
from hiroba.accounts.models import Role, StaffMembership
from hiroba.core.models import Department
from hiroba.workshops.models import Application, Programme, Session

_CACHE_ATTR = "_hiroba_workshops_applicant_departments"


def programmes_for(user: Any, minimum: Role = Role.READ) -> QuerySet[Programme]:
    """Programmes whose department the user may see (404 outside them)."""
    ids = permissions.department_ids(user, minimum)
    qs = Programme.objects.select_related("department")
    return qs if ids is None else qs.filter(department_id__in=ids)


def applicant_department_ids(user: Any, minimum: Role = Role.READ) -> set[int]:
    """Departments in which the user's own membership reaches `minimum` (sub-departments included)."""
    if not (getattr(user, "is_authenticated", False) and getattr(user, "is_staff_member", False)):
        return set()
    cache: dict[int, set[int]] = getattr(user, _CACHE_ATTR, None) or {}
    if int(minimum) in cache:
        return cache[int(minimum)]
    today = timezone.localdate()
    memberships = StaffMembership.objects.filter(user=user, role__gte=minimum, starts_on__lte=today).filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=today)
    ).select_related("department")
    ids: set[int] = set()
    for membership in memberships:
        if membership.department.is_active:
            ids |= membership.department.descendant_ids()
    cache[int(minimum)] = ids
    setattr(user, _CACHE_ATTR, cache)
    return ids


def may_see_applicants(user: Any, programme: Programme, minimum: Role = Role.READ) -> bool:
    return programme.department_id in applicant_department_ids(user, minimum)


def applications_for(user: Any, programme: Programme) -> QuerySet[Application]:
    """The programme's applications, or none at all for staff outside its department."""
    if not may_see_applicants(user, programme):
        return Application.objects.none()
    return Application.objects.filter(programme=programme)


def status_counts(programme: Programme) -> dict[str, int]:
    rows = programme.applications.values("status").annotate(n=Count("id"))
    counts = {status: 0 for status in Application.Status.values}
    counts.update({row["status"]: row["n"] for row in rows})
    return counts


def participants(programme: Programme) -> QuerySet[Application]:
    return programme.applications.filter(status=Application.Status.SELECTED).order_by("student_kana", "pk")


def sessions_with_attendance(programme: Programme) -> QuerySet[Session]:
    return programme.sessions.annotate(
        present_count=Count("attendances", filter=Q(attendances__present=True))
    ).order_by("number")


def public_programmes() -> QuerySet[Programme]:
    return Programme.objects.filter(is_published=True).select_related("department")


def public_results(programme: Programme) -> list[dict[str, Any]]:
    """The draw order as published: number, rank and the result of the draw (no names)."""
    lottery = getattr(programme, "lottery", None)
    if lottery is None or not lottery.is_drawn:
        return []
    result = lottery.result
    status: dict[str, str] = {n: _("当選") for n in result.get("selected", [])}
    status.update({n: _("補欠%(rank)s番") % {"rank": i} for i, n in enumerate(result.get("waitlist", []), 1)})
    not_selected = _("落選")
    return [{"rank": i, "number": n, "result": status.get(n, not_selected)} for i, n in enumerate(result["order"], 1)]


def department_choices_for(user: Any) -> QuerySet[Department]:
    ids = permissions.department_ids(user, Role.HANDLE)
    qs = Department.objects.filter(is_active=True)
    return qs if ids is None else qs.filter(id__in=ids)
