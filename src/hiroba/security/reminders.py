"""Reminders by e-mail (through core.notify): each department's findings that are overdue or due
soon, staff who have not taken a required course, staff who have not acknowledged the current
policy. Each kind goes to each person at most once a day (findings) or once a week (training,
policy), so the daily job can run as often as it likes."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from hiroba.accounts.models import User
from hiroba.accounts.queries import department_handlers
from hiroba.core import audit, notify
from hiroba.core.actors import ActorLike
from hiroba.core.models import Department
from hiroba.security import audit_actions as actions
from hiroba.security import conf
from hiroba.security.models import Attendance, Course, Finding
from hiroba.security.queries import current_version
from hiroba.security.services import who


def _claim(kind: str, recipient: str, today: date, *, every_days: int = 1, detail: str = "") -> bool:
    """Record that `kind` goes to `recipient` today, unless it went within `every_days`."""
    from hiroba.security.models import ReminderLog

    if ReminderLog.objects.filter(kind=kind, recipient=recipient, sent_on__gt=today - timedelta(days=every_days)
                                  ).exists():
        return False
    try:
        with transaction.atomic():
            ReminderLog.objects.create(kind=kind, recipient=recipient, sent_on=today, detail=detail[:200])
    except IntegrityError:
        return False
    return True


def _findings(today: date, site_url: str) -> int:
    soon = today + timedelta(days=conf.get("SECURITY_REMIND_DUE_WITHIN_DAYS"))
    rows = (Finding.objects.active().filter(due_on__lte=soon).order_by()
            .values("system__department_id").annotate(overdue=Count("id", filter=Q(due_on__lt=today)),
                                                      due_soon=Count("id", filter=Q(due_on__gte=today))))
    counts = {r["system__department_id"]: (r["overdue"], r["due_soon"]) for r in rows}
    names = dict(Department.objects.filter(pk__in=list(counts)).values_list("id", "name"))
    sent = 0
    for department_id, users in department_handlers(set(counts), today).items():
        overdue, due_soon = counts[department_id]
        for user in users:
            if _claim("findings", user.email, today, detail=f"{department_id}:{overdue}/{due_soon}"):
                notify.send(template="security/mail/findings_reminder", to=user.email, context={
                    "department": names.get(department_id, ""), "overdue": overdue, "due_soon": due_soon,
                    "url": site_url.rstrip("/") + "/staff/security/queue/" if site_url else "/staff/security/queue/",
                })
                sent += 1
    return sent


def _training(today: date, site_url: str) -> int:
    sent = 0
    for course in Course.objects.filter(required=True, sessions__starts_on__lte=today,
                                        sessions__ends_on__gte=today).distinct():
        session = course.sessions.filter(starts_on__lte=today, ends_on__gte=today).order_by("ends_on").first()
        done = Attendance.objects.filter(course=course)
        done_ids = set(done.exclude(user=None).values_list("user_id", flat=True))
        done_numbers = set(done.values_list("staff_number", flat=True))
        staff = User.objects.filter(kind=User.Kind.STAFF, is_active=True).exclude(pk__in=done_ids)
        for user in staff:
            if user.staff_number and user.staff_number in done_numbers:
                continue
            if _claim(f"training:{course.pk}", user.email, today, every_days=7):
                notify.send(template="security/mail/training_reminder", to=user.email,
                            context={"course": course, "session": session})
                sent += 1
    return sent


def _policy(today: date, site_url: str) -> int:
    from hiroba.security.models import Acknowledgement, PolicyDocument

    sent = 0
    for document in PolicyDocument.objects.filter(requires_acknowledgement=True):
        version = current_version(document, today)
        if version is None:
            continue
        done = set(Acknowledgement.objects.filter(version=version).values_list("user_id", flat=True))
        for user in User.objects.filter(kind=User.Kind.STAFF, is_active=True).exclude(pk__in=done):
            if _claim(f"policy:{version.pk}", user.email, today, every_days=7):
                notify.send(template="security/mail/policy_reminder", to=user.email, context={
                    "version": version,
                    "url": site_url.rstrip("/") + "/staff/security/policy/" if site_url else "/staff/security/policy/",
                })
                sent += 1
    return sent


@transaction.atomic
def reminders_send(*, actor: ActorLike = "system", today: date | None = None, site_url: str = "") -> int:
    """Send today's reminders; returns how many messages were queued."""
    today = today or timezone.localdate()
    counts = {"findings": _findings(today, site_url), "training": _training(today, site_url),
              "policy": _policy(today, site_url)}
    total = sum(counts.values())
    if total:
        audit.record(actor=who(actor), action=actions.REMINDERS_SEND, object_type="security.reminders",
                     object_id=today.isoformat(), object_repr=f"督促 {today.isoformat()}", changes=counts)
    return total
