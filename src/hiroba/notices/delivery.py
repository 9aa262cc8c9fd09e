"""What happened to the e-mails (the outbox's states, bounces from a Maildir of RFC 3464
reports), opening and acknowledging a notice, and reminders."""

from __future__ import annotations

import mailbox
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hiroba.core import audit, notify
from hiroba.core.actors import Actor, ActorLike
from hiroba.core.errors import ServiceError
from hiroba.core.models import Notification
from hiroba.notices import audit_actions, conf, lifecycle
from hiroba.notices.models import PENDING_DIGITAL, Notice, Representative, Status

MESSAGE_ID = re.compile(r"<notification-(\d+)@hiroba>")
REMINDER_TEMPLATE = "notices/mail/reminder"


def sync_mail_states(*, actor: ActorLike = None) -> dict[str, int]:
    """Carry the outbox's states over to the notices: 送信済み → sent, 再送待ち → temporary
    failure, 送信失敗 → permanent failure (which the fallback sends to paper)."""
    actor = actor or Actor.system("notices")
    sent_at = Subquery(Notification.objects.filter(pk=OuterRef("notification_id")).values("sent_at")[:1])
    with_state = lambda state: Notice.objects.filter(  # noqa: E731
        notification__in=Notification.objects.filter(state=state).values("pk"))
    return {
        "sent": len(lifecycle.move(with_state(Notification.State.SENT), "mail_sent", actor=actor, sent_at=sent_at)),
        "delayed": len(lifecycle.move(with_state(Notification.State.RETRY).filter(status=Status.QUEUED),
                                      "mail_delayed", actor=actor)),
        "failed": len(lifecycle.move(with_state(Notification.State.FAILED), "mail_failed", actor=actor)),
    }


@dataclass
class BounceResult:
    messages: int = 0
    bounced: int = 0
    delayed: int = 0
    unmatched: int = 0


def _report_parts(message: EmailMessage) -> tuple[list[dict[str, str]], str]:
    """(per-recipient fields of the delivery-status part, the original Message-ID)."""
    recipients: list[dict[str, str]] = []
    original = ""
    for part in message.walk():
        ctype = part.get_content_type()
        if ctype == "message/delivery-status":
            payload = part.get_payload()
            blocks = payload if isinstance(payload, list) else []
            for block in blocks[1:]:  # the first block is per-message, the rest per-recipient
                if not isinstance(block, Message):
                    continue
                recipients.append({k.lower(): str(v) for k, v in block.items()})
        elif ctype in ("text/rfc822-headers", "message/rfc822"):
            text = part.as_string() if ctype == "message/rfc822" else str(part.get_content())
            found = MESSAGE_ID.search(text)
            if found:
                original = found.group(0)
    if not original:
        found = MESSAGE_ID.search(message.as_string())
        original = found.group(0) if found else ""
    return recipients, original


def bounces_read(*, path: str | Path, actor: ActorLike = None) -> BounceResult:
    """Read the delivery-status reports of a Maildir (left in place: reading again changes
    nothing). A failed delivery makes the notice 不達 (to paper at the next fallback run), a
    delayed one 一時的な送信失敗."""
    actor = actor or Actor.system("bounces")
    folder = Path(path)
    if not (folder / "cur").is_dir() and not (folder / "new").is_dir():
        raise ServiceError(_("Maildir ではありません（cur と new のフォルダがありません）。"), code="not_maildir")
    box = mailbox.Maildir(str(folder), factory=None, create=False)
    result = BounceResult()
    for key in box.iterkeys():
        message = message_from_bytes(box.get_bytes(key), policy=policy.default)
        result.messages += 1
        recipients, original = _report_parts(message)
        found = MESSAGE_ID.search(original or "")
        if not recipients or not found:
            result.unmatched += 1
            continue
        notices = Notice.objects.filter(notification_id=int(found.group(1)))
        if not notices.exists():
            result.unmatched += 1
            continue
        for fields in recipients:
            action = fields.get("action", "").strip().lower()
            status = fields.get("status", "").strip()
            note = f"{action} {status} {fields.get('diagnostic-code', '')}".strip()[:300]
            if action == "failed" or status.startswith("5"):
                result.bounced += len(lifecycle.move(notices, "bounce", actor=actor, note=note))
            elif action == "delayed" or status.startswith("4"):
                result.delayed += len(lifecycle.move(notices.filter(status__in=[Status.QUEUED, Status.SENT]),
                                                     "mail_delayed", actor=actor, note=note))
    if result.bounced or result.delayed:
        with transaction.atomic():
            audit.record(actor=Actor.of(actor), action=audit_actions.BOUNCES_READ, object_type="notices.notice",
                         object_repr=str(folder)[:200], changes={"bounced": result.bounced, "delayed": result.delayed})
    return result


# --- the resident's side --------------------------------------------------------------------

def access_of(notice: Notice, user: Any) -> str:
    """"self", "representative", "guardian", or "" (no access) for this user and notice."""
    if not getattr(user, "is_authenticated", False):
        return ""
    if notice.recipient.user_id == user.pk:
        return "self"
    rep = Representative.objects.filter(recipient_id=notice.recipient_id, user=user, revoked_at__isnull=True,
                                        types=notice.batch.notice_type_id).first()
    return rep.kind if rep else ""


def notice_open(*, notice: Notice, user: Any, as_: str) -> Notice:
    """The resident (or their representative, recorded as such) opens the notice: it is
    delivered, unless it has already gone to paper (then the letter is the delivery)."""
    if notice.status not in PENDING_DIGITAL:
        return notice
    now = timezone.now()
    moved = lifecycle.move(Notice.objects.filter(pk=notice.pk), "open", actor=Actor.resident(user), now=now,
                           note=as_, opened_at=now, opened_by=user, opened_as=as_)
    if moved:
        notice.refresh_from_db()
    return notice


def notice_acknowledge(*, notice: Notice, user: Any) -> Notice:
    if not notice.batch.notice_type.needs_acknowledgement:
        raise ServiceError(_("この書面は受領確認の必要がありません。"), code="no_ack")
    return lifecycle.move_one(notice, "acknowledge", actor=Actor.resident(user), acknowledged_at=timezone.now())


def foreign_access(*, notice_id: int, user: Any) -> None:
    """Someone asked for a notice that is not theirs: answered 404, and logged."""
    with transaction.atomic():
        audit.record(actor=Actor.of(user), action=audit_actions.FOREIGN_ACCESS, object_type="notices.notice",
                     object_id=notice_id)


def reminders_send(*, now: datetime | None = None) -> int:
    """A reminder to everyone whose notice is unopened after the type's reminder days (once)."""
    now = now or timezone.now()
    count = 0
    candidates = (Notice.objects.filter(status__in=[Status.QUEUED, Status.SENT, Status.TEMPORARY_FAILURE],
                                        reminded_at__isnull=True, queued_at__isnull=False)
                  .select_related("batch__notice_type", "recipient__user"))
    for notice in candidates.iterator():
        kind = notice.batch.notice_type
        if notice.queued_at is None or notice.queued_at + timedelta(days=kind.reminder_days) > now:
            continue
        with transaction.atomic():
            claimed = Notice.objects.filter(pk=notice.pk, reminded_at__isnull=True,
                                            status__in=[Status.QUEUED, Status.SENT, Status.TEMPORARY_FAILURE]
                                            ).update(reminded_at=now)
            if not claimed or notice.recipient.user is None:
                continue
            mails = notify.send(template=REMINDER_TEMPLATE, to=notice.recipient.user.email, about=notice.batch,
                                context={"type_name": kind.name, "due": notice.fallback_due_at,
                                         "url": conf.site_url(reverse("notices:home"))})
            if mails:
                Notice.objects.filter(pk=notice.pk).update(reminder=mails[0])
                count += 1
    return count
