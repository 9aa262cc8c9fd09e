"""Sharing an item with another department (担当部署に共有) and its reply."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from hiroba.consultations import audit_actions, staff_mail
from hiroba.consultations.models import Item, Routing
from hiroba.consultations.services.errors import ConsultationError
from hiroba.core import audit
from hiroba.core.actors import Actor, ActorLike
from hiroba.core.models import Department

# --- routing --------------------------------------------------------------------------------

@transaction.atomic
@transaction.atomic
def routing_create(*, actor: ActorLike, item: Item, department: Department, due_date: date, note: str = "") -> Routing:
    """Share an item with another department (担当部署に共有), to be answered by the due date."""
    if item.routings.filter(department=department, state=Routing.State.OPEN).exists():
        raise ConsultationError(format_lazy(_("{department}には既に共有しています。"), department=department.name),
                                code="already_routed", field="department")
    routing = Routing.objects.create(item=item, department=department, due_date=due_date, note=note,
                                     created_by=Actor.of(actor).account())
    audit.record(actor=actor, action=audit_actions.ROUTING_CREATE, obj=routing,
                 changes={"item": item.number, "case": item.case.slug, "department": department.code,
                          "due_date": due_date})
    staff_mail.routing_created(routing)
    return routing


@transaction.atomic
def routing_complete(*, actor: ActorLike, routing: Routing, response: str) -> Routing:
    """The receiving department's reply; the routing leaves its queue."""
    if routing.state != Routing.State.OPEN:
        raise ConsultationError(_("この共有は既に回答済みです。"), code="routing_answered")
    if not response.strip():
        raise ConsultationError(_("回答を入力してください。"), code="reply_required")
    routing.state, routing.response = Routing.State.DONE, response.strip()
    routing.done_by, routing.done_at = Actor.of(actor).account(), timezone.now()
    routing.save()
    audit.record(actor=actor, action=audit_actions.ROUTING_COMPLETE, obj=routing,
                 changes={"state": ["open", "done"]})
    return routing
