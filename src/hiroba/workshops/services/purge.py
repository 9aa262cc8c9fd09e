"""Data protection: deletion after the programme."""

from __future__ import annotations

from datetime import date, datetime

from django.db import transaction
from django.utils import timezone

from hiroba.core import audit
from hiroba.core.actors import ActorLike
from hiroba.core.models import Notification
from hiroba.workshops import audit_actions as actions
from hiroba.workshops.models import (
    Application,
    Programme,
)

PERSONAL_FIELDS = [
    "student_name", "student_kana", "kana_key", "birth_date", "school_name", "school_key", "address",
    "student_email", "student_phone", "guardian_name", "guardian_relationship", "guardian_email",
    "guardian_phone", "interests", "accessibility_needs", "consented_by_name", "consent_nonce",
    "withdrawal_reason",
]


@transaction.atomic
def programme_purge(*, actor: ActorLike, programme: Programme, now: datetime | None = None) -> int:
    """Anonymise every application of the programme (names, contacts, birth dates, free text).

    Receipt numbers, grades, statuses and lottery ranks stay, so the published lottery can still
    be verified and attendance counted; nothing left identifies a child.
    """
    now = now or timezone.now()
    programme = Programme.objects.select_for_update().get(pk=programme.pk)
    if programme.is_purged:
        return 0
    blank = {name: "" for name in PERSONAL_FIELDS if name != "birth_date"}
    ids = [str(pk) for pk in programme.applications.values_list("pk", flat=True)]
    count = programme.applications.filter(anonymised_at__isnull=True).update(
        birth_date=None, anonymised_at=now, **blank)
    # the mails kept in the outbox carry the same names and addresses: they go too
    mails, _ = Notification.objects.filter(object_type=Application._meta.label_lower, object_id__in=ids).delete()
    programme.purged_at = now
    programme.save(update_fields=["purged_at"])
    audit.record(actor=actor, action=actions.PURGE, obj=programme, changes={
        "applications_anonymised": count, "mails_deleted": mails, "purge_on": programme.purge_on,
        "fields": PERSONAL_FIELDS})
    return count


def programmes_purge_due(*, actor: ActorLike, today: date | None = None, dry_run: bool = False) -> list[tuple[str, int]]:
    """Purge every programme whose deletion date has come. [(code, applications anonymised)]."""
    today = today or timezone.localdate()
    due = Programme.objects.filter(purge_on__lte=today, purged_at__isnull=True).order_by("purge_on", "code")
    if dry_run:
        return [(p.code, p.applications.filter(anonymised_at__isnull=True).count()) for p in due]
    return [(p.code, programme_purge(actor=actor, programme=p)) for p in due]
