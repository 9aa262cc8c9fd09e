"""Retention: content and personal fields are deleted on the notice type's schedule, the proof
of what was sent is kept.

- the e-mail body (core.Notification `body` / `html_body` of the notice mail and the reminder)
  `mail_retention_days` (default 7) after it was sent or failed for good;
- the notice itself (title, rendered HTML, merge fields) `retention_days` after it reached its
  person: opened or acknowledged, or the letter posted (or returned);
- a recipient list left in preview for more than `UPLOAD_DAYS` is discarded (its file deleted).

What stays: the template version, the SHA-256 of the rendered content, the route and paper
reason, every timestamp and the status history (`NoticeEvent`), the print run it was in.
`purge` is idempotent (a second run finds nothing) and writes one audit entry when it deleted
something."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import DateTimeField, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from hiroba.core import audit
from hiroba.core.actors import Actor, ActorLike
from hiroba.core.models import Notification
from hiroba.notices import audit_actions
from hiroba.notices.models import Notice, NoticeType, RecipientUpload, Status

#: Days a recipient list may wait in preview before its file is deleted.
UPLOAD_DAYS = 7
#: The states in which a notice has reached its person for good (digitally or on paper).
FINAL = [Status.DELIVERED, Status.ACKNOWLEDGED, Status.POSTED, Status.RETURNED]


@dataclass
class PurgeResult:
    mail_bodies: int = 0
    notices: int = 0
    uploads: int = 0
    dry_run: bool = False

    @property
    def total(self) -> int:
        return self.mail_bodies + self.notices + self.uploads


def _reached_at() -> Coalesce:
    """When the notice reached its person: acknowledged, opened, its letter posted, or (a
    letter returned before posting) put on paper."""
    return Coalesce("acknowledged_at", "opened_at", "print_item__run__posted_at", "paper_at",
                    output_field=DateTimeField())


def due_notices(kind: NoticeType, now: datetime) -> Any:
    return (Notice.objects.filter(batch__notice_type=kind, status__in=FINAL, purged_at__isnull=True)
            .annotate(reached=_reached_at())
            .filter(reached__isnull=False, reached__lte=now - timedelta(days=kind.retention_days)))


def due_mails(kind: NoticeType, now: datetime) -> Any:
    mail_ids = Notice.objects.filter(batch__notice_type=kind).values_list("notification_id", flat=True)
    reminder_ids = Notice.objects.filter(batch__notice_type=kind, reminder__isnull=False).values_list("reminder_id",
                                                                                                        flat=True)
    cutoff = now - timedelta(days=kind.mail_retention_days)
    return (Notification.objects.filter(Q(pk__in=mail_ids) | Q(pk__in=reminder_ids))
            .filter(state__in=[Notification.State.SENT, Notification.State.FAILED])
            .annotate(done=Coalesce("sent_at", "next_attempt_at", "created_at", output_field=DateTimeField()))
            .filter(done__lte=cutoff).exclude(body="", html_body=""))


def purge(*, actor: ActorLike = None, now: datetime | None = None, dry_run: bool = False) -> PurgeResult:
    now = now or timezone.now()
    result = PurgeResult(dry_run=dry_run)
    stale = RecipientUpload.objects.filter(state=RecipientUpload.State.PREVIEW,
                                           created_at__lte=now - timedelta(days=UPLOAD_DAYS))
    with transaction.atomic():
        for kind in NoticeType.objects.all():
            mails = list(due_mails(kind, now).values_list("pk", flat=True))
            notices = list(due_notices(kind, now).values_list("pk", flat=True))
            result.mail_bodies += len(mails)
            result.notices += len(notices)
            if dry_run:
                continue
            for start in range(0, len(mails), 1000):
                Notification.objects.filter(pk__in=mails[start:start + 1000]).update(body="", html_body="")
            for start in range(0, len(notices), 1000):
                Notice.objects.filter(pk__in=notices[start:start + 1000], purged_at__isnull=True).update(
                    title="", content_html="", values={}, purged_at=now)
        uploads = list(stale.values_list("pk", flat=True))
        result.uploads = len(uploads)
        if not dry_run and uploads:
            stale.filter(pk__in=uploads).update(state=RecipientUpload.State.DISCARDED, content=b"", finished_at=now)
        if not dry_run and result.total:
            audit.record(actor=Actor.of(actor or Actor.system("retention")), action=audit_actions.CONTENT_PURGE,
                         object_type="notices.notice", changes={"mail_bodies": result.mail_bodies,
                                                                "notices": result.notices, "uploads": result.uploads})
    return result
