"""Staff are told when work arrives (issue 12.10), by mail through core.notify (stored in the
caller's transaction, sent by the worker after the commit):

- an item shared with a department (担当部署に共有) → the staff of that department who answer it;
- a round waiting at a 決裁 step → who may decide that step; a returned round → its drafter;
- a routing past its due date → `hiroba consultation remind-overdue`, once a day per routing.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from hiroba.accounts.models import Role, StaffMembership, User
from hiroba.consultations.models import ApprovalRound, Routing
from hiroba.core import links, notify
from hiroba.core.models import Department, Notification

ROUTING_NEW = "consultations/mail/staff_routing"
ROUTING_OVERDUE = "consultations/mail/staff_routing_overdue"
APPROVAL_WAITING = "consultations/mail/staff_approval_waiting"
APPROVAL_RETURNED = "consultations/mail/staff_approval_returned"


def department_staff(department_id: int, minimum: Role) -> list[User]:
    """Active staff holding at least `minimum` today in the department or a department above it
    (a role on a 部 covers its 課)."""
    ids, current = set(), Department.objects.filter(pk=department_id).first()
    while current is not None and current.pk not in ids:
        ids.add(current.pk)
        current = current.parent
    today = timezone.localdate()
    memberships = (StaffMembership.objects.filter(department_id__in=ids, role__gte=minimum, starts_on__lte=today,
                                                  user__is_active=True)
                   .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today)).select_related("user").order_by("user_id"))
    return list({m.user_id: m.user for m in memberships}.values())


def _send(template: str, users: list[Any], context: dict[str, Any], about: Any) -> None:
    addresses = [u.email for u in users if getattr(u, "email", "")]
    notify.send(template=template, to=addresses, context=context, about=about,
                language=settings.LANGUAGE_CODE.split("-")[0])


def routing_created(routing: Routing) -> None:
    item = routing.item
    _send(ROUTING_NEW, department_staff(routing.department_id, Role.HANDLE), {
        "routing": routing, "item": item, "case": item.case,
        "url": links.absolute(reverse("consultations_staff:routing_queue")),
    }, routing)


def step_deciders(round_: ApprovalRound) -> list[User]:
    """Who may decide the round's current step, except its drafter and those who decided a step."""
    step = round_.current_step
    if step is None:
        return []
    if step.get("user_ids"):
        users = list(User.objects.filter(pk__in=step["user_ids"], is_active=True).order_by("pk"))
    else:
        users = department_staff(step["department_id"], Role(step["role"]))
    decided = set(round_.decisions.values_list("decided_by_id", flat=True))
    return [u for u in users if u.pk != round_.requested_by_id and u.pk not in decided]


def approval_waiting(round_: ApprovalRound) -> None:
    """The round now waits at its current step: tell who may decide it."""
    case = round_.case
    _send(APPROVAL_WAITING, step_deciders(round_), {
        "round": round_, "case": case, "step": round_.current_step,
        "url": links.absolute(reverse("consultations_staff:approval", args=[case.slug])),
    }, round_)


def approval_returned(round_: ApprovalRound, step_label: str, comment: str) -> None:
    case = round_.case
    drafter = [round_.requested_by] if round_.requested_by else []
    _send(APPROVAL_RETURNED, drafter, {
        "round": round_, "case": case, "step_label": step_label, "comment": comment,
        "url": links.absolute(reverse("consultations_staff:approval", args=[case.slug])),
    }, round_)


def remind_overdue(today: date | None = None) -> int:
    """Mail a reminder for every open routing past its due date, at most once a day per routing
    (a second run on the same day sends nothing). Returns how many routings were reminded."""
    today = today or timezone.localdate()
    reminded = 0
    overdue = (Routing.objects.filter(state=Routing.State.OPEN, due_date__lt=today)
               .select_related("item", "item__case", "department", "created_by").order_by("due_date", "pk"))
    for routing in overdue:
        already = Notification.objects.filter(template=ROUTING_OVERDUE, object_type=Routing._meta.label_lower,
                                              object_id=str(routing.pk), created_at__date=today)
        if already.exists():
            continue
        users = department_staff(routing.department_id, Role.HANDLE)
        if routing.created_by and routing.created_by not in users:
            users.append(routing.created_by)
        _send(ROUTING_OVERDUE, users, {
            "routing": routing, "item": routing.item, "case": routing.item.case,
            "days": (today - routing.due_date).days,
            "url": links.absolute(reverse("consultations_staff:routing_queue")),
        }, routing)
        reminded += 1
    return reminded
