"""Submissions: the hot intake path (受付番号 by one SQL statement on PostgreSQL), the receipt
mail and the e-mail confirmation."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast
from urllib.parse import urlencode

from django.conf import settings
from django.core.files.base import File
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from hiroba.accounts.identity import VerifiedIdentity
from hiroba.accounts.models import IdentityLevel
from hiroba.consultations import audit_actions
from hiroba.consultations.models import Case, Channel, Section, Submission
from hiroba.consultations.services.errors import ConsultationError, PeriodClosed
from hiroba.consultations.services.items import item_create
from hiroba.core import audit, dates, links, notify
from hiroba.core.actors import ActorLike

log = logging.getLogger("hiroba.consultations.services")


@dataclass(frozen=True)
class Original:
    """An uploaded file (web attachment or scanned original) already checked by the form."""

    file: File
    name: str
    content_type: str


# --- submissions ----------------------------------------------------------------------------

def receipt_number(case: Case, seq: int) -> str:
    return f"{case.period_start.year}-{case.receipt_code}-{seq:04d}"


def submission_receive(
    *,
    actor: ActorLike,
    case: Case,
    idempotency_key: str,
    channel: str,
    text: str,
    name: str = "",
    address: str = "",
    category: str = "",
    email: str = "",
    phone: str = "",
    section: Section | None = None,
    original: Original | None = None,
    received_at: datetime | None = None,
    postmark_date: date | None = None,
    identity: VerifiedIdentity | None = None,
    entered_by: Any = None,
    external_key: str = "",
    check_period: bool = True,
    site_url: str = "",
) -> tuple[Submission, bool]:
    """Store one submission and give it the next 受付番号 of its case; (submission, created).

    Idempotent: a retried call with the same key returns the submission already stored. The
    number is allocated by a conditional UPDATE on the case row inside the same transaction, so
    numbers never repeat and never skip. The caller acknowledges only after this returns, i.e.
    after the commit.
    """
    if original is not None:  # a retried upload must not store its file twice
        existing = _submission_by_key(idempotency_key)
        if existing is not None:
            return existing, False
    try:
        return _submission_store(
            actor=actor, case=case, idempotency_key=idempotency_key, channel=channel, text=text, name=name,
            address=address, category=category, email=email, phone=phone, section=section, original=original,
            received_at=received_at, postmark_date=postmark_date, identity=identity, entered_by=entered_by,
            external_key=external_key, check_period=check_period, site_url=site_url,
        )
    except (ConsultationError, IntegrityError):
        # A retry of a submission already stored (even one retried after the period closed, or
        # raced by its own double click) gets that submission back; anything else is an error.
        existing = _submission_by_key(idempotency_key)
        if existing is None:
            raise
        return existing, False


def period_text(case: Case) -> str:
    """The period as the intake's error messages state it (the actual last day if closed early)."""
    text = f"{dates.wareki(case.period_start)}～{dates.wareki(case.last_day)}"
    return text + ("（予定より早く受付を終了）" if case.closed_early else "")


def _check_paper_period(*, case: Case, received_at: datetime, postmark_date: date | None) -> None:
    """Paper arrives late: a letter counts by its postmark, what was handed in, faxed or e-mailed
    by the day it was received; that day must fall in the period. The message names the date
    at fault and the period, for the clerk at the intake form."""
    if case.state not in (Case.State.OPEN, Case.State.TALLYING):
        raise PeriodClosed(case, format_lazy(_("この案件は「{state}」のため、意見を受け付けることはできません"
                                               "（募集期間 {period}）。"),
                                             state=case.get_state_display(), period=period_text(case)))
    if postmark_date is not None:
        day, label, field = postmark_date, _("消印日"), "postmark_date"
    else:
        day, label, field = timezone.localdate(received_at), _("受付日時"), "received_at"
    if not (case.period_start <= day <= case.last_day):
        raise PeriodClosed(case, format_lazy(_("{label}（{day}）が募集期間（{period}）の外のため、受け付けられません。"),
                                             label=label, day=dates.wareki_with_seireki(day), period=period_text(case)),
                           field=field)


def _submission_by_key(idempotency_key: str) -> Submission | None:
    return Submission.objects.filter(idempotency_key=idempotency_key).order_by().first()


def _take_receipt_seq(case: Case) -> int:
    """Advance the case's counter and return the number taken (one ``UPDATE … RETURNING``).

    The row lock is held until the caller's transaction ends: numbers never repeat, and a
    rolled-back submission gives its number back, so they never skip either.
    """
    table = connection.ops.quote_name(Case._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET next_receipt_seq = next_receipt_seq + 1 WHERE id = %s RETURNING next_receipt_seq",  # nosec B608
            [case.pk],
        )
        return int(cursor.fetchone()[0]) - 1


def _insert_numbered_pg(submission: Submission, case: Case, audit_fields: dict[str, Any]) -> None:
    """PostgreSQL: take the case's next 受付番号, insert the submission and its audit entry in
    one statement (a data-modifying ``WITH``).

    Outside a transaction the statement is its own transaction, committed before it returns:
    the case's counter row is locked only while the server runs it, never across a round trip
    to this process, so concurrent submissions do not queue behind one another's network
    waits. Numbers never repeat and never skip (a failed statement advances nothing). Inside
    a caller's transaction it runs in a savepoint, so a refused insert leaves that usable.
    """
    qn = connection.ops.quote_name
    columns: list[str] = []
    expressions: list[str] = []
    params: list[Any] = [case.pk]
    for f in Submission._meta.concrete_fields:
        if f.primary_key:
            continue
        columns.append(qn(cast(str, f.column)))  # a concrete field always has its column
        if f.attname == "receipt_seq":
            expressions.append("c.seq")
        elif f.attname == "receipt_number":  # receipt_number(): f"{year}-{code}-{seq:04d}"
            expressions.append("%s || CASE WHEN c.seq < 10000 THEN lpad(c.seq::text, 4, '0') ELSE c.seq::text END")
            params.append(receipt_number(case, 0)[:-4])
        else:
            expressions.append("%s")
            params.append(f.get_db_prep_save(f.pre_save(submission, True), connection))
    audit_sql, audit_params = audit.pending_insert_sql(
        object_type=Submission._meta.label_lower, select_from="s", object_id_sql="s.id::text",
        object_repr_sql="s.receipt_number", **audit_fields,
    )
    sql = (
        f"WITH c AS (UPDATE {qn(Case._meta.db_table)} SET next_receipt_seq = next_receipt_seq + 1 WHERE id = %s "  # nosec B608
        f"RETURNING next_receipt_seq - 1 AS seq), "
        f"s AS (INSERT INTO {qn(Submission._meta.db_table)} ({', '.join(columns)}) SELECT {', '.join(expressions)} "
        f"FROM c RETURNING id, receipt_seq, receipt_number), "
        f"a AS ({audit_sql}) "
        f"SELECT id, receipt_seq, receipt_number FROM s"
    )
    with transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext():
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, *audit_params])
            row = cursor.fetchone()
    if row is None:  # the case row is gone
        raise ConsultationError(_("この案件は見つかりません。"), code="case_not_found")
    submission.pk, submission.receipt_seq, submission.receipt_number = row
    submission._state.adding = False
    submission._state.db = connection.alias


def _submission_store(
    *,
    actor: ActorLike,
    case: Case,
    idempotency_key: str,
    channel: str,
    text: str,
    name: str,
    address: str,
    category: str,
    email: str,
    phone: str,
    section: Section | None,
    original: Original | None,
    received_at: datetime | None,
    postmark_date: date | None,
    identity: VerifiedIdentity | None,
    entered_by: Any,
    external_key: str,
    check_period: bool,
    site_url: str,
) -> tuple[Submission, bool]:
    now = timezone.now()
    received_at = received_at or now
    if not text.strip():
        raise ConsultationError(_("意見を入力してください。"), code="text_required")
    if section is not None and section.case_id != case.pk:
        raise ConsultationError(_("該当箇所がこの案件のものではありません。"), code="section_other_case")
    if channel not in case.channels and not (channel == Channel.UNKNOWN and external_key):
        raise ConsultationError(_("この案件では、その提出方法では受け付けていません。"), code="channel_not_accepted")
    if check_period:
        if channel == Channel.WEB:
            if not case.accepts_at(now):
                raise PeriodClosed(case)
        else:
            _check_paper_period(case=case, received_at=received_at, postmark_date=postmark_date)
    status = Submission.IdentityStatus.NOT_REQUIRED
    token = ""
    if channel == Channel.WEB and case.identity_level == IdentityLevel.EMAIL:
        if not email:
            raise ConsultationError(_("この案件では、メールアドレスの確認が必要です。メールアドレスを入力してください。"), code="email_required")
        status = Submission.IdentityStatus.PENDING
        token = secrets.token_urlsafe(32)
    if channel == Channel.WEB and case.identity_level == IdentityLevel.VERIFIED:
        if identity is None:
            raise ConsultationError(_("この案件では、本人確認を済ませてから意見を提出してください。"), code="identity_required")
        status = Submission.IdentityStatus.VERIFIED
    submission = Submission(
        case=case, idempotency_key=idempotency_key, channel=channel, received_at=received_at,
        postmark_date=postmark_date, name=name, address=address, category=category, email=email,
        phone=phone, text=text, section=section, identity_status=status,
        confirm_token_hash=hashlib.sha256(token.encode()).hexdigest() if token else "",
        verified_by=identity.verifier if identity else "",
        verified_subject=identity.subject_hash if identity else "",
        entered_by=entered_by, external_key=external_key,
    )
    if original is not None:
        submission.original_name = original.name[:200]
        submission.original_type = original.content_type[:50]
        submission.original_file.save(original.name, original.file, save=False)
    audit_fields: dict[str, Any] = {"actor": actor, "action": audit_actions.SUBMISSION_RECEIVE, "changes": {"case": case.slug, "channel": channel}}
    if connection.vendor == "postgresql":
        _insert_numbered_pg(submission, case, audit_fields)
    else:
        with transaction.atomic():
            submission.receipt_seq = _take_receipt_seq(case)
            submission.receipt_number = receipt_number(case, submission.receipt_seq)
            submission.save(force_insert=True)
            audit.record_pending(obj=submission, **audit_fields)
    if email and not external_key:
        receipt_mail(submission, token=token, site_url=site_url)
    if channel == Channel.WEB and section is not None and not external_key:
        # The resident chose the section: the opinion is one item for it, cut once the submission
        # is committed (its own short transaction: submissions never queue behind the item's lock).
        transaction.on_commit(lambda: _itemise_whole(actor, submission.pk))
    return submission, True


def _itemise_whole(actor: ActorLike, submission_id: int) -> None:
    """A web opinion for a chosen section becomes item No.n of that section, the whole text."""
    submission = Submission.objects.select_related("section").get(pk=submission_id)
    section = submission.section  # scheduled only for a submission with a section
    if section is None or submission.items.exists():  # (a retried callback)
        return
    try:
        item_create(actor=actor, submission=submission, span=(0, len(submission.text)), sections=[section])
    except ConsultationError:  # the table closed in between: the clerk itemises it by hand
        log.warning("submission %s was not itemised automatically", submission.receipt_number, exc_info=True)


def receipt_mail(submission: Submission, *, token: str = "", site_url: str = "") -> None:
    """The 受付番号 mail (with the confirmation link where the case needs one, and the なりすまし申告
    page), stored in the outbox now and sent by the worker after the commit."""
    base = (site_url or links.base_url()).rstrip("/")
    case = submission.case
    confirm_url = base + reverse("consultations:confirm_email", args=[token]) if token else ""
    report_url = base + reverse("consultations:report", args=[case.slug]) + "?" + urlencode(
        {"receipt": submission.receipt_number})
    notify.send(template="consultations/mail/receipt", to=submission.email, about=submission,
                language=translation.get_language() or settings.LANGUAGE_CODE,
                context={"submission": submission, "case": case, "confirm_url": confirm_url,
                         "report_url": report_url})


@transaction.atomic
def submission_confirm_email(*, token: str) -> Submission | None:
    """The resident clicked the link in the receipt mail: the opinion now counts."""
    digest = hashlib.sha256(token.encode()).hexdigest()
    submission = Submission.objects.select_for_update().filter(confirm_token_hash=digest).first()
    if submission is None:
        return None
    if submission.identity_status == Submission.IdentityStatus.PENDING:
        submission.identity_status = Submission.IdentityStatus.CONFIRMED
        submission.confirmed_at = timezone.now()
        submission.save(update_fields=["identity_status", "confirmed_at"])
        audit.record(actor="resident", action=audit_actions.SUBMISSION_CONFIRM_EMAIL, obj=submission,
                     changes={"identity_status": ["pending", "confirmed"]})
    return submission
