"""Private helpers shared by the workshop service modules."""

from __future__ import annotations

from datetime import date

from hiroba.core import audit
from hiroba.core.actors import ActorLike
from hiroba.core.dates import wareki
from hiroba.workshops import audit_actions as actions
from hiroba.workshops import notify
from hiroba.workshops.models import (
    Application,
    Programme,
)


def _period(start: date, end: date) -> str:
    return f"{wareki(start)}〜{wareki(end)}"


def _lapse_unconsented(actor: ActorLike, programme: Programme) -> int:
    lapsed = programme.applications.filter(status=Application.Status.AWAITING_CONSENT)
    numbers = list(lapsed.values_list("receipt_number", flat=True))
    lapsed.update(status=Application.Status.LAPSED)
    if numbers:
        audit.record(actor=actor, action=actions.APPLICATIONS_LAPSE, obj=programme,
                     changes={"count": len(numbers), "receipt_numbers": numbers})
    return len(numbers)


def _fill_vacancies(actor: ActorLike, programme: Programme, *, notify_applicants: bool = True) -> list[Application]:
    """Promote the head of the waiting list while seats are free."""
    promoted = []
    selected = programme.applications.filter(status=Application.Status.SELECTED).count()
    waiting = list(programme.applications.filter(status=Application.Status.WAITLISTED)
                   .select_for_update().order_by("waitlist_rank"))
    while selected < programme.capacity and waiting:
        app = waiting.pop(0)
        before = audit.snapshot(app, ["status", "waitlist_rank"])
        app.status, app.waitlist_rank = Application.Status.SELECTED, None
        app.save(update_fields=["status", "waitlist_rank"])
        audit.record(actor=actor, action=actions.APPLICATION_PROMOTE, obj=app,
                     changes=audit.diff(before, audit.snapshot(app, ["status", "waitlist_rank"])))
        if notify_applicants:
            notify.promoted(app.pk)
        promoted.append(app)
        selected += 1
    return promoted
