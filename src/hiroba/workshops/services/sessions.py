"""Sessions (開催回)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from hiroba.core import audit
from hiroba.core.actors import ActorLike
from hiroba.workshops import audit_actions as actions
from hiroba.workshops.models import (
    Programme,
    Session,
)

SESSION_FIELDS = ["number", "title", "starts_at", "ends_at", "place", "online_url", "agenda", "materials", "notes"]


@transaction.atomic
def session_create(*, actor: ActorLike, programme: Programme, **fields: Any) -> Session:
    """Add a session (開催回)."""
    session = Session(programme=programme, **fields)
    session.full_clean()
    session.save()
    audit.record(actor=actor, action=actions.SESSION_CREATE, obj=session,
                 changes=audit.diff({}, audit.snapshot(session, SESSION_FIELDS)))
    return session


@transaction.atomic
def session_update(*, actor: ActorLike, session: Session, **fields: Any) -> Session:
    """Change a session's date, place, agenda, materials or notes."""
    before = audit.snapshot(session, SESSION_FIELDS)
    for name, value in fields.items():
        if name not in SESSION_FIELDS:
            raise TypeError(f"unknown session field {name}")
        setattr(session, name, value)
    session.full_clean()
    session.save()
    audit.record(actor=actor, action=actions.SESSION_UPDATE, obj=session,
                 changes=audit.diff(before, audit.snapshot(session, SESSION_FIELDS)))
    return session
