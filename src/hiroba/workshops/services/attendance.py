"""Attendance at sessions."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hiroba.core import audit
from hiroba.core.actors import Actor, ActorLike
from hiroba.workshops import audit_actions as actions
from hiroba.workshops.models import (
    Application,
    Attendance,
    Session,
)
from hiroba.workshops.services.errors import WorkshopError


@transaction.atomic
def attendance_record(*, actor: ActorLike, session: Session, present_ids: Iterable[int]) -> dict[str, int]:
    """Tick who attended a session: every participant gets a present/absent row."""
    programme = session.programme
    if programme.is_purged:
        raise WorkshopError(_("この企画の個人情報は消去済みのため、出欠は記録できません。"), "purged")
    participants = {a.pk: a for a in programme.applications.filter(status=Application.Status.SELECTED)}
    present = set(present_ids)
    if present - set(participants):
        raise WorkshopError(_("参加者ではない人が含まれています。画面を読み込み直してください。"), "not_participant", field="present")
    existing = {a.application_id: a for a in session.attendances.all()}
    now = timezone.now()
    before = {participants[i].receipt_number: existing[i].present for i in existing if i in participants}
    for pk in participants:
        row = existing.get(pk)
        if row is None:
            Attendance.objects.create(session=session, application_id=pk, present=pk in present,
                                      recorded_by=Actor.of(actor).account(), recorded_at=now)
        elif row.present != (pk in present):
            row.present, row.recorded_at = pk in present, now
            row.recorded_by = Actor.of(actor).account()
            row.save(update_fields=["present", "recorded_at", "recorded_by"])
    after = {participants[pk].receipt_number: pk in present for pk in participants}
    audit.record(actor=actor, action=actions.ATTENDANCE_RECORD, obj=session,
                 changes=audit.diff(before, after))
    return {"present": len(present), "absent": len(participants) - len(present)}
