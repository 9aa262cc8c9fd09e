"""The consultations' part of the staff home's to-do list (core.todo): routed items to answer and
those past their due date, answers waiting for my 決裁, masks to review."""

from __future__ import annotations

from typing import Any

from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from hiroba.accounts.models import Role
from hiroba.consultations import queries, services
from hiroba.consultations.models import ApprovalRound, Mask
from hiroba.core.todo import Todo

DETAILS = 5


def todos(user: Any) -> list[Todo]:
    today = timezone.localdate()
    routings = list(queries.routing_queue(user))
    overdue = [r for r in routings if r.due_date < today]
    queue = reverse("consultations_staff:routing_queue")

    def routing_details(rows: list[Any]) -> list[tuple[str, str]]:
        return [(f"{r.item.case.title} No.{r.item.number}（{_('期限')} {r.due_date:%m/%d}）", queue)
                for r in rows[:DETAILS]]

    waiting = waiting_approvals(user)
    mask_counts = (Mask.objects.filter(decision=Mask.Decision.PENDING, item__case__in=queries.cases_for(user, Role.HANDLE))
             .values("item__case__slug", "item__case__title").annotate(n=Count("id")).order_by("item__case__slug"))
    masks = list(mask_counts)
    return [
        Todo(_("期限を過ぎた共有（回答待ち）"), len(overdue), queue, urgent=True, details=routing_details(overdue)),
        Todo(_("共有された意見（回答待ち）"), len(routings), queue, details=routing_details(routings)),
        Todo(_("決裁待ちの回答"), len(waiting), waiting[0][1] if len(waiting) == 1 else reverse("consultations_staff:list"),
             details=waiting[:DETAILS]),
        Todo(_("個人情報の確認が必要な箇所"), sum(m["n"] for m in masks),
             reverse("consultations_staff:masks", args=[masks[0]["item__case__slug"]]) if len(masks) == 1
             else reverse("consultations_staff:list"),
             details=[(f"{m['item__case__title']}（{m['n']}）", reverse("consultations_staff:masks",
                                                                        args=[m["item__case__slug"]]))
                      for m in masks[:DETAILS]]),
    ]


def waiting_approvals(user: Any) -> list[tuple[str, str]]:
    """(「case — step」, approval page) of every pending round whose current step the user may decide."""
    rounds = (ApprovalRound.objects.filter(state=ApprovalRound.State.PENDING, case__in=queries.cases_for(user))
              .select_related("case").prefetch_related("decisions").order_by("requested_at"))
    return [(f"{r.case.title} — {r.current_step['label']}", reverse("consultations_staff:approval", args=[r.case.slug]))
            for r in rounds
            if r.current_step and r.requested_by_id != user.pk and services.may_decide(user, r.current_step)
            and not any(d.decided_by_id == user.pk for d in r.decisions.all())]
