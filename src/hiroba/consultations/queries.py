"""Reads scoped to what the user may see."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import Count, Exists, OuterRef, QuerySet

from hiroba.accounts import permissions
from hiroba.accounts.models import Role
from hiroba.consultations.models import Case, PublishedResult, Routing
from hiroba.core.models import Department


def cases_for(user: Any, minimum: Role = Role.READ) -> QuerySet[Case]:
    """Cases of the departments where the user holds `minimum` (every case for admins)."""
    ids = permissions.department_ids(user, minimum)
    qs = Case.objects.select_related("department")
    return qs if ids is None else qs.filter(department_id__in=ids)


def case_list(user: Any) -> QuerySet[Case]:
    return cases_for(user).annotate(
        submission_count=Count("submissions", distinct=True),
        item_count=Count("items", distinct=True),
    ).order_by("-period_start", "slug")


def routing_queue(user: Any, *, include_done: bool = False) -> QuerySet[Routing]:
    """Items shared with the user's departments (担当部署に共有), oldest due date first."""
    ids = permissions.department_ids(user, Role.HANDLE)
    qs = Routing.objects.select_related("item", "item__case", "department", "item__answer")
    if ids is not None:
        qs = qs.filter(department_id__in=ids)
    if not include_done:
        qs = qs.filter(state=Routing.State.OPEN)
    return qs.order_by("due_date", "id")


def departments_for_handling(user: Any) -> QuerySet[Department]:
    ids = permissions.department_ids(user, Role.HANDLE)
    qs = Department.objects.filter(is_active=True)
    return qs if ids is None else qs.filter(id__in=ids)


def public_cases() -> QuerySet[Case]:
    """Every case once its call for comment has opened: open, closed (awaiting its results, its
    draft still readable) and published. `has_results` says whether a version is published."""
    return (Case.objects.exclude(state=Case.State.PREPARING).select_related("department")
            .annotate(has_results=Exists(PublishedResult.objects.filter(case=OuterRef("pk")))))


def public_status(case: Case) -> str:
    """How a public case stands for residents: "published" (results out), "open" (taking
    opinions now), "not_yet" (open, its first day still ahead) or "closed" (awaiting results).
    `case` comes from `public_cases()` (it reads the `has_results` annotation)."""
    from django.utils import timezone

    if getattr(case, "has_results", False):
        return "published"
    if case.is_open:
        return "open"
    if case.state == Case.State.OPEN and timezone.now() < case.opens_at:
        return "not_yet"
    return "closed"


def public_case_without_department(slug: str) -> Case | None:
    """The public case `slug`, its department not loaded: what `public_cases()` gives, as one
    plain SELECT. The submit form runs this on every post, and building the ORM query costs
    twice as much as running it."""
    table = connection.ops.quote_name(Case._meta.db_table)
    cases = Case.objects.raw(f"SELECT * FROM {table} WHERE slug = %s AND state <> %s", [slug, Case.State.PREPARING])  # nosec B608
    return next(iter(cases), None)


def published_result(case: Case, version: int | None = None) -> PublishedResult | None:
    """The published version `version` of the case, or its latest."""
    results = case.published_results.order_by("-version")
    if version is not None:
        results = results.filter(version=version)
    return results.first()


def published_versions(case: Case) -> list[PublishedResult]:
    return list(case.published_results.order_by("version").only("id", "version", "reported_on", "correction_note"))
