"""Every write of the intake queue. Each channel describes what arrived as an `Incoming` and hands
it to `take`; staff decide the entries that wait with `entry_confirm` and `entry_reject`.

All of them end, for a submission, in `consultations.services.submission_receive` — the call the
staff intake form makes — so numbering, audit and idempotency are the same on every channel. Each
entry is written in one transaction with its originals, its submission and its audit entries:
nothing is half-written, and a thing read twice finds its entry and adds nothing.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hiroba.consultations import services
from hiroba.consultations.intake import audit_actions as actions
from hiroba.consultations.intake.models import Entry, Original, Source, State
from hiroba.consultations.models import Case, Channel, Section, Submission
from hiroba.core import audit, notify
from hiroba.core.actors import Actor, ActorLike

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

SYSTEM = Actor.system("intake")
NEW, DUPLICATE, HELD = "new", "duplicate", "held"


def make_key(*parts: Any) -> str:
    """The 64-character key of one thing in one channel (a Message-ID, a scan's pages, a row key)."""
    return hashlib.sha256("\x00".join(str(p) for p in parts).encode("utf-8", "surrogateescape")).hexdigest()


@dataclass(frozen=True)
class Hold:
    """Why an entry waits for staff instead of becoming a submission by itself."""

    code: str
    reason: str


@dataclass(frozen=True)
class File:
    kind: str
    name: str
    content: bytes
    content_type: str = ""


@dataclass
class Incoming:
    """What arrived, as a channel read it."""

    case: Case
    source: str
    channel: str
    source_key: str
    received_at: datetime
    text: str = ""
    sender: str = ""
    sender_name: str = ""
    subject: str = ""
    message_id: str = ""
    fields: dict[str, Any] = field(default_factory=dict)  # name, address, category, email, phone, postmark_date
    files: list[File] = field(default_factory=list)
    shared: list[Original] = field(default_factory=list)  # originals already stored (a scan split in letters)
    hold: Hold | None = None
    review: bool = False  # waits for staff confirmation even with nothing wrong (a scanned letter)
    ocr_text: str = ""
    ocr_words: list[Any] = field(default_factory=list)
    ocr_confidence: float | None = None
    pages: str = ""
    external_key: str = ""
    reply: bool = False  # send the 受付番号 to the sender (mail that is not automatic)
    check_period: bool = True  # False: the channel checked the period itself (a form-service row)


@dataclass(frozen=True)
class Outcome:
    entry: Entry
    result: str  # NEW, DUPLICATE or HELD

    @property
    def reason(self) -> str:
        return self.entry.hold_reason


def find(source_key: str) -> Entry | None:
    return Entry.objects.filter(source_key=source_key).first()


_SAFE_SUFFIX = re.compile(r"^\.[A-Za-z0-9]{1,8}$")


def store_original(case: Case, file: File) -> Original:
    """Store the bytes as they arrived, under a name made from their hash (never the sender's)."""
    digest = hashlib.sha256(file.content).hexdigest()
    suffix = PurePath(file.name).suffix.lower()
    suffix = suffix if _SAFE_SUFFIX.match(suffix) else ".bin"
    content_type = file.content_type or mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    original = Original(case=case, kind=file.kind, name=(file.name or f"{digest[:12]}{suffix}")[:200],
                        content_type=content_type[:100], size=len(file.content), sha256=digest)
    original.file.save(f"{digest[:24]}{suffix}", ContentFile(file.content), save=False)
    original.save(force_insert=True)
    return original


def submission_key(entry: Entry) -> str:
    """The idempotency key of the submission an entry makes (the same for every retry)."""
    return make_key("intake-submission", entry.source_key)


def take(incoming: Incoming) -> Outcome:
    """Record what arrived: a submission now (自動取込), or an entry that waits for staff
    (要確認, with the reason when something is wrong). Idempotent on `source_key`."""
    existing = find(incoming.source_key)
    if existing is not None:
        return Outcome(existing, DUPLICATE)
    try:
        with transaction.atomic():
            entry = _take(incoming)
    except IntegrityError:  # another reader of the same mailbox stored it first
        existing = find(incoming.source_key)
        if existing is None:
            raise
        return Outcome(existing, DUPLICATE)
    return Outcome(entry, NEW if entry.state == State.AUTO else HELD)


def _take(incoming: Incoming) -> Entry:
    case = incoming.case
    entry = Entry(
        case=case, source=incoming.source, channel=incoming.channel, source_key=incoming.source_key,
        state=State.REVIEW, received_at=incoming.received_at, sender=incoming.sender[:254],
        sender_name=incoming.sender_name[:200], subject=incoming.subject[:300], message_id=incoming.message_id[:300],
        text=incoming.text, fields=_jsonable(incoming.fields), ocr_text=incoming.ocr_text,
        ocr_words=incoming.ocr_words, ocr_confidence=incoming.ocr_confidence, pages=incoming.pages[:40],
    )
    hold = incoming.hold
    submission = None
    if hold is None and not incoming.review:
        try:  # (it refuses before writing anything, and writes in a savepoint of its own)
            submission, _created = services.submission_receive(
                actor=SYSTEM, case=case, idempotency_key=submission_key(entry), channel=incoming.channel,
                text=incoming.text, received_at=incoming.received_at, external_key=incoming.external_key[:100],
                check_period=incoming.check_period, **_submission_fields(case, incoming.fields),
            )
        except services.PeriodClosed as exc:
            hold = Hold("period", _("期間外: %(reason)s") % {"reason": exc})
        except services.ConsultationError as exc:
            hold = Hold("refused", str(exc))
    if submission is not None:
        entry.state, entry.submission = State.AUTO, submission
        entry.auto_replied = incoming.reply and _may_reply(entry.sender)
    elif hold is not None:
        entry.hold_code, entry.hold_reason = hold.code, hold.reason
    entry.save(force_insert=True)
    originals = [store_original(case, f) for f in incoming.files] + list(incoming.shared)
    Link = Entry.originals.through
    Link.objects.bulk_create([Link(entry_id=entry.pk, original_id=o.pk) for o in originals])
    # A pending entry (chained soon after, like the submission's own): a mailbox pass of thousands
    # of messages does not queue on the chain head, and the entry commits with the write.
    audit.record_pending(
        actor=SYSTEM, action=actions.ENTRY_RECEIVE if submission else actions.ENTRY_HOLD, obj=entry,
        changes={"case": case.slug, "source": entry.source, "channel": entry.channel,
                 "receipt_number": submission.receipt_number if submission else "",
                 "hold": entry.hold_code, "originals": [o.sha256 for o in originals]},
    )
    if entry.auto_replied:
        notify.send(template="consultations/intake/mail/autoreply", to=entry.sender, about=submission,
                    context={"case": case, "submission": submission, "subject": entry.subject})
    return entry


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, date | datetime) else v) for k, v in values.items()}


def _submission_fields(case: Case, values: dict[str, Any]) -> dict[str, Any]:
    """The submitter's details an entry carries, as `submission_receive` takes them."""
    out: dict[str, Any] = {k: str(values.get(k) or "")[:limit] for k, limit in
                           (("name", 100), ("address", 200), ("email", 254), ("phone", 30))}
    category = values.get("category") or ""
    out["category"] = category if category in dict(_categories()) else ""
    postmark = values.get("postmark_date")
    if isinstance(postmark, str) and postmark:
        postmark = date.fromisoformat(postmark)
    out["postmark_date"] = postmark or None
    section = values.get("section")
    if isinstance(section, str) and section:
        section = case.sections.filter(heading=section).first() or case.sections.filter(number=section).first()
    out["section"] = section if isinstance(section, Section) else None
    return out


def _categories() -> list[tuple[str, StrOrPromise]]:
    from hiroba.consultations.models import Category

    return list(Category.choices)


# --- the automatic reply ---------------------------------------------------------------------

def _may_reply(sender: str) -> bool:
    """The 受付番号 goes to the sender at most CONSULTATIONS_INTAKE_AUTOREPLY_PER_DAY a day each (a
    loop with another robot, or a flood, gets no more than that)."""
    from hiroba.consultations.intake import conf

    if not sender:
        return False
    since = timezone.now() - timedelta(days=1)
    sent = Entry.objects.filter(sender=sender, auto_replied=True, created_at__gte=since).count()
    return sent < conf.get("CONSULTATIONS_INTAKE_AUTOREPLY_PER_DAY")


# --- staff decisions -------------------------------------------------------------------------

@dataclass(frozen=True)
class Confirmation:
    """What staff typed on the confirmation screen."""

    text: str
    channel: str
    received_at: datetime
    postmark_date: date | None = None
    name: str = ""
    address: str = ""
    category: str = ""
    email: str = ""
    phone: str = ""
    section: Section | None = None
    accept_late: bool = False  # staff decided to take it although it is outside the period
    note: str = ""


def entry_confirm(*, actor: ActorLike, entry: Entry, data: Confirmation) -> Submission:
    """Staff confirmed an entry: it becomes a submission (確定), with the text staff checked;
    the OCR text and the originals stay beside it."""
    if data.channel not in (Channel.HAND, Channel.POST, Channel.FAX, Channel.EMAIL, Channel.WEB):
        raise services.ConsultationError(_("提出方法を選んでください。"))
    with transaction.atomic():
        locked = Entry.objects.select_for_update().get(pk=entry.pk)
        if locked.state != State.REVIEW:
            raise services.ConsultationError(_("この取込みは既に「%(state)s」です。") % {"state": locked.get_state_display()})
        submission, _created = services.submission_receive(
            actor=actor, case=locked.case, idempotency_key=submission_key(locked), channel=data.channel,
            text=data.text, name=data.name, address=data.address, category=data.category, email=data.email,
            phone=data.phone, section=data.section, received_at=data.received_at, postmark_date=data.postmark_date,
            entered_by=Actor.of(actor).account(), check_period=not data.accept_late,
            external_key=f"mail:{locked.message_id}"[:100] if locked.source in (Source.MAIL, Source.FAX)
            and locked.message_id else "",
        )
        before = {"state": locked.state}
        locked.state, locked.submission = State.CONFIRMED, submission
        locked.decided_by, locked.decided_at, locked.decision_note = Actor.of(actor).account(), timezone.now(), data.note
        locked.save(update_fields=["state", "submission", "decided_by", "decided_at", "decision_note"])
        audit.record(actor=actor, action=actions.ENTRY_CONFIRM, obj=locked, changes={
            "state": [before["state"], locked.state], "receipt_number": submission.receipt_number,
            "accept_late": data.accept_late, "text_changed": data.text.strip() != (locked.ocr_text or locked.text).strip(),
        })
    entry.refresh_from_db()
    return submission


def entry_reject(*, actor: ActorLike, entry: Entry, reason: str) -> Entry:
    """Staff decided not to take an entry (an automatic mail, spam, a duplicate letter): kept, with why."""
    if not reason.strip():
        raise services.ConsultationError(_("受け付けない理由を入力してください。"))
    with transaction.atomic():
        locked = Entry.objects.select_for_update().get(pk=entry.pk)
        if locked.state != State.REVIEW:
            raise services.ConsultationError(_("この取込みは既に「%(state)s」です。") % {"state": locked.get_state_display()})
        locked.state = State.REJECTED
        locked.decided_by, locked.decided_at, locked.decision_note = Actor.of(actor).account(), timezone.now(), reason.strip()
        locked.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])
        audit.record(actor=actor, action=actions.ENTRY_REJECT, obj=locked,
                     changes={"state": [State.REVIEW, State.REJECTED], "reason": reason.strip()})
    entry.refresh_from_db()
    return entry
