"""Reads scoped to what the user may see: a department its own systems and records, the CISO
office all of them (see `access`). Dashboards aggregate in SQL: a fixed number of queries
however many findings there are."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from hiroba.accounts.models import Role, StaffMembership, User
from hiroba.core.dates import fiscal_year_bounds, fiscal_year_of
from hiroba.core.models import Department
from hiroba.security import access
from hiroba.security.models import (
    Acknowledgement,
    Attendance,
    Audit,
    CorrectiveAction,
    Course,
    DiagnosisRound,
    Finding,
    FindingQuerySet,
    ImprovementAction,
    Incident,
    PolicyDocument,
    PolicyVersion,
    RiskAcceptance,
    Severity,
    System,
)

GRADES = [Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW]


def _scope(qs: QuerySet, user: Any, minimum: Role, path: str) -> QuerySet:
    ids = access.OFFICE.department_ids(user, minimum)
    return qs if ids is None else qs.filter(**{f"{path}__in": ids})


def systems_for(user: Any, minimum: Role = Role.READ) -> QuerySet[System]:
    return _scope(System.objects.select_related("department", "contractor"), user, minimum, "department_id")


def findings_for(user: Any, minimum: Role = Role.READ) -> FindingQuerySet:
    return _scope(  # type: ignore[return-value]  # filter() keeps the queryset's class
        Finding.objects.select_related("system__department", "rule"), user, minimum,
        "system__department_id")


def rounds_for(user: Any, minimum: Role = Role.READ) -> QuerySet[DiagnosisRound]:
    return _scope(DiagnosisRound.objects.select_related("system__department"), user, minimum,
        "system__department_id")


def acceptances_for(user: Any) -> QuerySet[RiskAcceptance]:
    return _scope(RiskAcceptance.objects.select_related("finding__system__department", "requested_by", "approver"),
                  user, Role.READ, "finding__system__department_id")


def incidents_for(user: Any, minimum: Role = Role.READ) -> QuerySet[Incident]:
    return _scope(Incident.objects.select_related("department", "system"), user, minimum, "department_id")


def actions_for(user: Any, minimum: Role = Role.READ) -> QuerySet[CorrectiveAction]:
    return _scope(CorrectiveAction.objects.select_related("evaluation__audit", "department", "owner"), user, minimum,
                  "department_id")


def audits_for(user: Any) -> QuerySet[Audit]:
    """Audits: the office sees all; a department those it is in scope of or owns an action of."""
    ids = access.OFFICE.department_ids(user, Role.READ)
    qs = Audit.objects.all()
    if ids is None:
        return qs
    return qs.filter(Q(departments__in=ids) | Q(evaluations__actions__department_id__in=ids)).distinct()


def department_queue(user: Any, department: Department | None = None) -> QuerySet[Finding]:
    """The findings a department still has to fix, most urgent first (overdue, then by due date)."""
    qs = findings_for(user).active()
    if department is not None:
        qs = qs.filter(system__department_id__in=department.descendant_ids())
    return qs.order_by("due_on", "-severity", "id")


def pending_acceptances_for_approver(user: Any) -> QuerySet[RiskAcceptance]:
    from hiroba.accounts import permissions

    ids = permissions.department_ids(user, Role.APPROVE)
    qs = RiskAcceptance.objects.filter(state=RiskAcceptance.State.REQUESTED).exclude(requested_by=user).select_related(
        "finding__system__department", "requested_by")
    return qs if ids is None else qs.filter(finding__system__department_id__in=ids)


@dataclass
class DepartmentRow:
    department_id: int
    name: str
    by_grade: dict[int, int] = field(default_factory=dict)
    overdue: int = 0

    @property
    def open(self) -> int:
        return sum(self.by_grade.values())

    @property
    def cells(self) -> list[int]:
        return [self.by_grade.get(g, 0) for g in GRADES]


@dataclass
class OverdueDashboard:
    today: date
    rows: list[DepartmentRow]
    most_overdue: list[Finding]
    totals: dict[int, int]
    overdue_total: int

    @property
    def open_total(self) -> int:
        return sum(self.totals.values())

    @property
    def total_cells(self) -> list[int]:
        return [self.totals.get(g, 0) for g in GRADES]


def overdue_dashboard(user: Any, *, today: date | None = None, limit: int = 50) -> OverdueDashboard:
    """Open findings by department and grade, overdue counts, and the most overdue ones: one
    grouped query, one list query and one for department names, whatever the number of findings."""
    today = today or timezone.localdate()
    base = findings_for(user).active()
    grouped = (base.order_by().values("system__department_id", "severity")
               .annotate(n=Count("id"), late=Count("id", filter=Q(due_on__lt=today))))
    rows: dict[int, DepartmentRow] = {}
    totals: dict[int, int] = defaultdict(int)
    overdue_total = 0
    for item in grouped:
        row = rows.setdefault(item["system__department_id"], DepartmentRow(item["system__department_id"], ""))
        row.by_grade[item["severity"]] = row.by_grade.get(item["severity"], 0) + item["n"]
        row.overdue += item["late"]
        totals[item["severity"]] += item["n"]
        overdue_total += item["late"]
    names = {d.pk: d.full_name for d in Department.objects.filter(pk__in=list(rows)).select_related("parent__parent")}
    for row in rows.values():
        row.name = names.get(row.department_id, "")
    most = list(base.filter(due_on__lt=today).order_by("due_on", "-severity", "id")[:limit])
    ordered = sorted(rows.values(), key=lambda r: (-r.overdue, -r.open, r.name))
    return OverdueDashboard(today, ordered, most, dict(totals), overdue_total)


@dataclass
class CourseRow:
    course: Course
    attendees: int
    favourable_share: float | None


@dataclass
class CisoDashboard:
    fiscal_year: int
    findings: OverdueDashboard
    systems_total: int
    diagnosed_by_year: list[tuple[int, int]]  # (fiscal year, systems diagnosed)
    open_actions: int
    overdue_actions: int
    open_improvements: int
    incidents: int
    drills: int
    ppc_reports_due: list[Incident]
    courses: list[CourseRow]
    posture: Any


def diagnosed_by_year(user: Any) -> list[tuple[int, int]]:
    """Systems diagnosed per fiscal year (the paper's 56 against 53 the year before)."""
    qs = rounds_for(user).order_by().values("fiscal_year").annotate(n=Count("system_id", distinct=True))
    return sorted(((row["fiscal_year"], row["n"]) for row in qs), reverse=True)


def ciso_dashboard(user: Any, *, fiscal_year: int | None = None) -> CisoDashboard:
    from hiroba.security import posture
    from hiroba.surveys import queries as survey_queries

    today = timezone.localdate()
    year = fiscal_year or fiscal_year_of(today)
    first, last = fiscal_year_bounds(year)
    actions = actions_for(user).exclude(state=CorrectiveAction.State.CLOSED)
    incidents = incidents_for(user).filter(detected_at__date__gte=first, detected_at__date__lte=last)
    courses = []
    for course in Course.objects.filter(fiscal_year=year).select_related("survey").order_by("id"):
        share = survey_queries.favourable_share(course.survey) if course.survey is not None else None
        courses.append(CourseRow(course, course.attendee_count, share))
    reports_due = [i for i in incidents_for(user).filter(personal_data=True, is_drill=False)
                   .exclude(state=Incident.State.CLOSED) if i.ppc_report_required and not i.ppc_final_reported_on]
    return CisoDashboard(
        fiscal_year=year, findings=overdue_dashboard(user, today=today, limit=10),
        systems_total=systems_for(user).filter(is_active=True).count(), diagnosed_by_year=diagnosed_by_year(user),
        open_actions=actions.count(), overdue_actions=actions.filter(due_on__lt=today).count(),
        open_improvements=_scope(ImprovementAction.objects.filter(state=ImprovementAction.State.OPEN), user,
                                 Role.READ, "department_id").count(),
        incidents=incidents.filter(is_drill=False).count(), drills=incidents.filter(is_drill=True).count(),
        ppc_reports_due=reports_due, courses=courses, posture=posture.latest(),
    )


# --- training and policy ----------------------------------------------------------------------

def _staff_of(department_ids: set[int] | None) -> QuerySet[StaffMembership]:
    today = timezone.localdate()
    qs = StaffMembership.objects.filter(user__kind=User.Kind.STAFF, user__is_active=True, starts_on__lte=today).filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=today))
    return qs if department_ids is None else qs.filter(department_id__in=department_ids)


@dataclass
class MissingRow:
    department: str
    staff: int
    missing: list[User]

    @property
    def done(self) -> int:
        return self.staff - len(self.missing)


def _missing_by_department(user: Any, done_user_ids: set[int], done_numbers: set[str]) -> list[MissingRow]:
    ids = access.OFFICE.department_ids(user, Role.READ)
    rows: dict[int, MissingRow] = {}
    memberships = _staff_of(ids).select_related("user", "department__parent").order_by(
        "department__sort_order", "department__code", "user__email")
    for m in memberships:
        row = rows.setdefault(m.department_id, MissingRow(m.department.full_name, 0, []))
        row.staff += 1
        if m.user_id not in done_user_ids and not (m.user.staff_number and m.user.staff_number in done_numbers):
            row.missing.append(m.user)
    return list(rows.values())


def training_missing(user: Any, course: Course) -> list[MissingRow]:
    """Who has not completed `course`, per department the viewer may see."""
    done = Attendance.objects.filter(course=course)
    return _missing_by_department(user, set(done.exclude(user=None).values_list("user_id", flat=True)),
                                  set(done.values_list("staff_number", flat=True)))


def current_version(document: PolicyDocument, today: date | None = None) -> PolicyVersion | None:
    return document.versions.filter(effective_on__lte=today or timezone.localdate()).order_by(
        "-effective_on", "-id").first()


def policy_missing(user: Any, version: PolicyVersion) -> list[MissingRow]:
    """Who has not acknowledged (誓約) `version`, per department the viewer may see."""
    done = set(Acknowledgement.objects.filter(version=version).values_list("user_id", flat=True))
    return _missing_by_department(user, done, set())


def versions_to_acknowledge(user: Any) -> list[PolicyVersion]:
    """The current versions this staff member has not acknowledged yet."""
    out = []
    for document in PolicyDocument.objects.filter(requires_acknowledgement=True):
        version = current_version(document)
        if version and not Acknowledgement.objects.filter(version=version, user=user).exists():
            out.append(version)
    return out
