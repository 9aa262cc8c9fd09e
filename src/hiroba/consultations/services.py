"""Every write of the consultation workflow: one function per use case, atomic and audited.

Views, the command line, the importer and the demo call these; they validate their input first
(forms) and these functions enforce the business rules (period, state, locks) themselves.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast
from urllib.parse import urlencode

from django.conf import settings
from django.core.files.base import File
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from hiroba.accounts import permissions
from hiroba.accounts.identity import VerifiedIdentity
from hiroba.accounts.models import IdentityLevel, Role
from hiroba.consultations import audit_actions, conf, masking, staff_mail
from hiroba.consultations.models import (
    TABLE_LOCKED_STATES,
    Answer,
    AnswerVersion,
    ApprovalDecision,
    ApprovalRound,
    ApprovalStep,
    Case,
    Category,
    Channel,
    ExcludeCategory,
    ImpersonationReport,
    Item,
    Mask,
    PublishedFile,
    PublishedResult,
    Routing,
    Section,
    StandardAnswer,
    Submission,
    period_warning,
)
from hiroba.core import audit, dates, links, notify
from hiroba.core.errors import ServiceError
from hiroba.core.models import Department

log = logging.getLogger(__name__)

CASE_FIELDS = [
    "title", "department_id", "legal_basis", "period_start", "period_end", "short_period_reason",
    "channels", "announced_in", "eligibility", "identity_level", "state",
]
DETAIL_FIELDS = ["submit_address", "hand_in_place", "hand_in_hours", "fax_number", "email_address", "results_due_on"]


class ConsultationError(ServiceError):
    """A business rule of the consultation workflow refused the operation (a ``ServiceError``:
    a translatable message, a ``code`` and, where a form field is at fault, ``field``)."""


class PeriodClosed(ConsultationError):
    """Outside the period. For paper, `field` names the form field at fault (the postmark or the
    received date) and the message states that date and the period."""

    def __init__(self, case: Case, message: Any = "", field: str | None = None) -> None:
        super().__init__(message or _("受付期間外のため、意見を受け付けることができません。"),
                         code="period_closed", field=field)
        self.case = case


class TableLocked(ConsultationError):
    """The published table is frozen: the case is in approval (決裁中) or published (公表済)."""

    def __init__(self, case: Case | None = None, what: Any = None) -> None:
        if case is None:
            state, how = _("決裁中または公表済み"), _("決裁をやり直してください")
        elif case.state == Case.State.APPROVING:
            state, how = _("決裁中"), _("決裁を差し戻すか起案を取り消して、回答作成中に戻してください")
        else:
            state, how = _("公表済み"), _("「訂正」で回答作成中に戻し、改めて決裁を受けてください")
        super().__init__(
            format_lazy(_("{state}のため、{what}は変更できません。公表する内容は決裁で承認されたとおりに固定されています。"
                          "変更するには、{how}。"), state=state, what=what or _("公表する内容"), how=how),
            code="table_locked",
        )
        self.case = case


class AnswersLocked(TableLocked):
    def __init__(self, case: Case | None = None) -> None:
        super().__init__(case, _("回答"))


@dataclass(frozen=True)
class Original:
    """An uploaded file (web attachment or scanned original) already checked by the form."""

    file: File
    name: str
    content_type: str


# --- the published table is frozen in approval and after publication -------------------------

def check_table_open(case: Case, what: Any = None, error: type[TableLocked] = TableLocked) -> None:
    """The one check every write that would change a published row calls first (items, their
    sections and 要旨, 対象外・取下げ, masks, answers, the draft's headings): refused in 決裁中
    and 公表済 until a 差戻し, a withdrawn request or a 訂正 brings the case back to 回答作成中.
    The case row is locked, so a write and a request for approval never interleave."""
    state = Case.objects.select_for_update().filter(pk=case.pk).values_list("state", flat=True).first()
    if state is None:
        raise ConsultationError(_("この案件は見つかりません。"), code="case_not_found")
    case.state = state
    if state in TABLE_LOCKED_STATES:
        raise error(case) if error is AnswersLocked else error(case, what)


# --- cases ----------------------------------------------------------------------------------

@transaction.atomic
def case_create(
    *,
    actor: Any,
    slug: str,
    title: str,
    department: Department,
    period_start: date,
    period_end: date,
    channels: Sequence[str],
    short_period_reason: str = "",
    channel_names: dict[str, str] | None = None,
    announced_in: Sequence[str] = (),
    eligibility: Sequence[str] = (),
    identity_level: str = IdentityLevel.NONE,
    legal_basis: str = "",
    summary: str = "",
    municipality: str = "",
    receipt_code: str = "PC",
    draft_pdf: File | None = None,
    declared_submitters: int | None = None,
    reported_on: date | None = None,
    submit_address: str = "",
    hand_in_place: str = "",
    hand_in_hours: str = "",
    fax_number: str = "",
    email_address: str = "",
    results_due_on: date | None = None,
) -> Case:
    """Create a case in 準備中. A period shorter than the ward's minimum needs a stated reason.
    Where paper, fax and e-mail go may be filled in later; the call cannot open without it."""
    if period_end < period_start:
        raise ConsultationError(_("募集終了日は開始日以降にしてください。"), code="period_order")
    warning = period_warning(period_start, period_end, conf.get("CONSULTATIONS_MIN_PERIOD_DAYS"))
    if warning and not short_period_reason.strip():
        raise ConsultationError(warning, code="short_period", field="short_period_reason")
    unknown = [c for c in channels if c not in Channel.values]
    if unknown or not channels:
        raise ConsultationError(_("提出方法を1つ以上、正しく選んでください。"), code="channels_invalid")
    if any(c not in Category.values for c in eligibility):
        raise ConsultationError(_("提出できる方は、在住・在勤・在学・事業者・利害関係者から選んでください。"), code="eligibility_invalid")
    case = Case(
        slug=slug, title=title, department=department, period_start=period_start, period_end=period_end,
        short_period_reason=short_period_reason.strip(), channels=list(channels),
        channel_names=dict(channel_names or {}), announced_in=list(announced_in), eligibility=list(eligibility),
        identity_level=identity_level, legal_basis=legal_basis, summary=summary, municipality=municipality,
        receipt_code=receipt_code, declared_submitters=declared_submitters, reported_on=reported_on,
        submit_address=submit_address.strip(), hand_in_place=hand_in_place.strip(),
        hand_in_hours=hand_in_hours.strip(), fax_number=fax_number.strip(), email_address=email_address.strip(),
        results_due_on=results_due_on,
    )
    if draft_pdf is not None:
        case.draft_pdf.save(getattr(draft_pdf, "name", "draft.pdf"), draft_pdf, save=False)
    case.save()
    audit.record(actor=actor, action=audit_actions.CASE_CREATE, obj=case,
                 changes={**audit.diff({}, audit.snapshot(case, CASE_FIELDS)), "draft_pdf": case.draft_pdf.name or ""})
    return case


_TRANSITIONS = {
    Case.State.PREPARING: {Case.State.OPEN},
    Case.State.OPEN: {Case.State.TALLYING},
    Case.State.TALLYING: {Case.State.ANSWERING},
}


def missing_contacts(case: Case) -> list[str]:
    """What the draft page must state for each paper channel the case takes, and does not."""
    missing = []
    if Channel.HAND in case.channels and not (case.hand_in_place or case.submit_address):
        missing.append("持参の窓口")
    if Channel.POST in case.channels and not case.submit_address:
        missing.append("郵送先（住所と宛先）")
    if Channel.FAX in case.channels and not case.fax_number:
        missing.append("ファクス番号")
    if Channel.EMAIL in case.channels and not case.email_address:
        missing.append("送付先のメールアドレス")
    return missing


@transaction.atomic
def case_transition(
    *, actor: Any, case: Case, to: str, reason: str = "", results_due_on: date | None = None,
) -> Case:
    """準備中 → 募集中 → 集計中 → 回答作成中. Approval and publication have their own services.

    Opening needs the draft's headings and, for every paper channel, where to send or bring an
    opinion. Closing (募集中 → 集計中) before the planned last day is an early close: it needs a
    reason, and the day and the reason are recorded and published with the results.
    """
    case = Case.objects.select_for_update().get(pk=case.pk)
    if to not in _TRANSITIONS.get(Case.State(case.state), set()):
        raise ConsultationError(
            format_lazy(_("「{current}」から「{to}」には変更できません。"),
                        current=case.get_state_display(), to=Case.State(to).label),
            code="invalid_transition",
        )
    if to == Case.State.OPEN and not case.sections.exists():
        raise ConsultationError(_("案の該当箇所（見出し）を1つ以上登録してから募集を開始してください。"), code="no_sections")
    if to == Case.State.OPEN and missing_contacts(case):
        raise ConsultationError(
            format_lazy(_("提出先が記載されていません（{missing}）。提出先を登録してから募集を開始してください。"),
                        missing="、".join(missing_contacts(case))),
            code="contacts_missing")
    fields = ["state"]
    extra: dict[str, Any] = {"reason": reason.strip()} if reason.strip() else {}
    if to == Case.State.TALLYING:
        today = timezone.localdate()
        if today < case.period_end:
            if not reason.strip():
                raise ConsultationError(
                    format_lazy(_("募集期間の最終日（{last_day}）より前に受付を終了するには、"
                                  "理由を入力してください。理由は結果とともに公表されます。"),
                                last_day=dates.wareki_with_seireki(case.period_end)),
                    code="early_close_reason_required", field="reason")
            case.closed_on, case.close_reason = today, reason.strip()
            fields += ["closed_on", "close_reason"]
            extra["closed_on"] = today.isoformat()
    if results_due_on is not None:
        case.results_due_on = results_due_on
        fields.append("results_due_on")
        extra["results_due_on"] = results_due_on.isoformat()
    before = audit.snapshot(case, ["state"])
    case.state = to
    case.save(update_fields=[*fields, "updated_at"])
    audit.record(actor=actor, action=audit_actions.CASE_TRANSITION, obj=case,
                 changes={**audit.diff(before, audit.snapshot(case, ["state"])), **extra})
    return case


@transaction.atomic
def case_update_details(*, actor: Any, case: Case, **values: Any) -> Case:
    """Where to bring, send, fax or e-mail an opinion, and when the results are expected
    (none of it is part of the published table, so it may change in any state)."""
    unknown = set(values) - set(DETAIL_FIELDS)
    if unknown:
        raise ConsultationError(format_lazy(_("変更できない項目です: {names}"), names="、".join(sorted(unknown))),
                                code="unknown_fields")
    case = Case.objects.select_for_update().get(pk=case.pk)
    before = audit.snapshot(case, DETAIL_FIELDS)
    for name, value in values.items():
        setattr(case, name, value.strip() if isinstance(value, str) else value)
    if case.state == Case.State.OPEN and missing_contacts(case):
        raise ConsultationError(format_lazy(_("募集中の案件では、提出先を空にできません（{missing}）。"),
                                            missing="、".join(missing_contacts(case))), code="contacts_missing")
    case.save(update_fields=[*values, "updated_at"])
    changes = audit.diff(before, audit.snapshot(case, DETAIL_FIELDS))
    audit.record(actor=actor, action=audit_actions.CASE_UPDATE_DETAILS, obj=case, changes=changes)
    return case


@transaction.atomic
def section_add(
    *, actor: Any, case: Case, heading: str, body: str = "", number: str = "", parent: Section | None = None,
    page: int | None = None,
) -> Section:
    """Add a heading of the draft (the section tree residents point their opinions at)."""
    check_table_open(case, _("該当箇所の見出し"))
    if parent is not None and parent.case_id != case.pk:
        raise ConsultationError(_("上位の箇所は同じ案件から選んでください。"), code="parent_other_case")
    if case.sections.filter(heading=heading).exists():
        raise ConsultationError(format_lazy(_("見出し「{heading}」は既に登録されています。"), heading=heading),
                                code="heading_duplicate", field="heading")
    position = (case.sections.aggregate(m=Max("position"))["m"] or 0) + 1
    section = Section.objects.create(case=case, heading=heading, body=body, number=number, parent=parent,
                                     page=page, position=position)
    audit.record(actor=actor, action=audit_actions.SECTION_ADD, obj=section,
                 changes={"case": case.slug, "heading": heading})
    return section


# --- submissions ----------------------------------------------------------------------------

def receipt_number(case: Case, seq: int) -> str:
    return f"{case.period_start.year}-{case.receipt_code}-{seq:04d}"


def submission_receive(
    *,
    actor: Any,
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
            f"UPDATE {table} SET next_receipt_seq = next_receipt_seq + 1 WHERE id = %s RETURNING next_receipt_seq",
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
        f"WITH c AS (UPDATE {qn(Case._meta.db_table)} SET next_receipt_seq = next_receipt_seq + 1 WHERE id = %s "
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
    actor: Any,
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
    audit_fields = {"actor": actor, "action": audit_actions.SUBMISSION_RECEIVE, "changes": {"case": case.slug, "channel": channel}}
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


def _itemise_whole(actor: Any, submission_id: int) -> None:
    """A web opinion for a chosen section becomes item No.n of that section, the whole text."""
    submission = Submission.objects.select_related("section").get(pk=submission_id)
    if submission.items.exists():  # a retried callback
        return
    try:
        item_create(actor=actor, submission=submission, span=(0, len(submission.text)),
                    sections=[submission.section])
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


# --- items ----------------------------------------------------------------------------------

@transaction.atomic
def item_create(
    *,
    actor: Any,
    submission: Submission,
    sections: Iterable[Section] = (),
    span: tuple[int, int] | None = None,
    text: str = "",
    section_label: str = "",
    summary: str = "",
    number: int | None = None,
    detector: masking.Detector | None = None,
) -> Item:
    """Cut an item from a submission: a span of the original (text copied) or a re-typed excerpt."""
    case = Case.objects.select_for_update().get(pk=submission.case_id)
    check_table_open(case, _("意見（項目）"))
    if span is not None:
        start, end = span
        if not (0 <= start < end <= len(submission.text)):
            raise ConsultationError(_("原文の範囲が正しくありません。"), code="span_invalid")
        text = submission.text[start:end]
    if not text.strip():
        raise ConsultationError(_("意見内容を入力してください。"), code="summary_required")
    sections = list(sections)
    if any(s.case_id != case.pk for s in sections):
        raise ConsultationError(_("該当箇所がこの案件のものではありません。"), code="section_other_case")
    if number is None:
        number = (case.items.aggregate(m=Max("number"))["m"] or 0) + 1
    item = Item.objects.create(
        case=case, submission=submission, number=number, text=text,
        span_start=span[0] if span else None, span_end=span[1] if span else None,
        section_label=section_label, summary=summary, created_by=actor if _is_user(actor) else None,
    )
    item.sections.set(sections)
    masks_detect(item=item, detector=detector)
    audit.record(actor=actor, action=audit_actions.ITEM_CREATE, obj=item,
                 changes={"submission": submission.receipt_number, "number": number,
                          "sections": [s.heading for s in sections], "span": list(span) if span else None})
    return item


ITEM_FIELDS = ["summary", "reflection", "section_label", "excluded", "exclude_reason", "exclude_category", "withdrawn",
               "withdraw_reason"]


@transaction.atomic
def item_update(
    *, actor: Any, item: Item, sections: Iterable[Section] | None = None, summary: str | None = None,
    reflection: str | None = None, section_label: str | None = None, detector: masking.Detector | None = None,
) -> Item:
    """Change an item's sections, summary (意見の要旨) or reflection class (反映区分)."""
    check_table_open(item.case, _("意見の該当箇所・要旨・反映区分"))
    before = audit.snapshot(item, ITEM_FIELDS)
    before_sections = sorted(item.sections.values_list("heading", flat=True))
    if summary is not None and summary != item.summary:
        item.summary = summary
        item.masks.filter(field="summary").delete()
    if reflection is not None:
        item.reflection = reflection
    if section_label is not None:
        item.section_label = section_label
    item.save()
    if summary is not None:
        masks_detect(item=item, detector=detector)
    changes = audit.diff(before, audit.snapshot(item, ITEM_FIELDS))
    if sections is not None:
        sections = list(sections)
        if any(s.case_id != item.case_id for s in sections):
            raise ConsultationError(_("該当箇所がこの案件のものではありません。"), code="section_other_case")
        item.sections.set(sections)
        after_sections = sorted(s.heading for s in sections)
        if after_sections != before_sections:
            changes["sections"] = [before_sections, after_sections]
    audit.record(actor=actor, action=audit_actions.ITEM_UPDATE, obj=item, changes=changes)
    return item


@transaction.atomic
def item_exclude(*, actor: Any, item: Item, reason: str, category: str = ExcludeCategory.OTHER) -> Item:
    """Mark an item 対象外: kept and counted (「うち公表しない意見」, by `category`), never
    published."""
    check_table_open(item.case, _("公表しない意見（対象外）"))
    if not reason.strip():
        raise ConsultationError(_("対象外とする理由を入力してください。"), code="exclude_reason_required")
    if category not in ExcludeCategory.values:
        raise ConsultationError(_("公表しない理由の区分を選んでください。"), code="exclude_category_required")
    before = audit.snapshot(item, ITEM_FIELDS)
    item.excluded, item.exclude_reason, item.exclude_category = True, reason.strip(), category
    item.save(update_fields=["excluded", "exclude_reason", "exclude_category"])
    audit.record(actor=actor, action=audit_actions.ITEM_EXCLUDE, obj=item,
                 changes=audit.diff(before, audit.snapshot(item, ITEM_FIELDS)))
    return item


@transaction.atomic
def item_include(*, actor: Any, item: Item) -> Item:
    check_table_open(item.case, _("公表しない意見（対象外）"))
    before = audit.snapshot(item, ITEM_FIELDS)
    item.excluded, item.exclude_reason, item.exclude_category = False, "", ""
    item.save(update_fields=["excluded", "exclude_reason", "exclude_category"])
    audit.record(actor=actor, action=audit_actions.ITEM_INCLUDE, obj=item,
                 changes=audit.diff(before, audit.snapshot(item, ITEM_FIELDS)))
    return item


@transaction.atomic
def item_withdraw(*, actor: Any, item: Item, reason: str) -> Item:
    """Withdraw an item (e.g. an upheld なりすまし申告), with the reason recorded."""
    check_table_open(item.case, _("意見の取下げ"))
    if not reason.strip():
        raise ConsultationError(_("取下げの理由を入力してください。"), code="withdraw_reason_required")
    before = audit.snapshot(item, ITEM_FIELDS)
    item.withdrawn, item.withdraw_reason = True, reason.strip()
    item.save(update_fields=["withdrawn", "withdraw_reason"])
    audit.record(actor=actor, action=audit_actions.ITEM_WITHDRAW, obj=item,
                 changes=audit.diff(before, audit.snapshot(item, ITEM_FIELDS)))
    return item


# --- answers --------------------------------------------------------------------------------

def _check_answers_open(case: Case) -> None:
    check_table_open(case, _("回答"), error=AnswersLocked)


def answers_require_open(case: Case) -> None:
    """Raise `AnswersLocked` when the case's answers can no longer change (決裁中・公表済み),
    reading its state afresh: the check every answer write makes, for callers outside this module."""
    _check_answers_open(case)


@transaction.atomic
def answer_write(*, actor: Any, items: Sequence[Item], text: str) -> Answer:
    """One answer (区の考え方) for one item or for a group of same-intent items."""
    if not items:
        raise ConsultationError(_("回答する意見を選んでください。"), code="no_items")
    case = items[0].case
    if any(i.case_id != case.pk for i in items):
        raise ConsultationError(_("同じ案件の意見だけをまとめて回答できます。"), code="items_other_case")
    _check_answers_open(case)
    if not text.strip():
        raise ConsultationError(_("区の考え方を入力してください。"), code="answer_required")
    replaced = {str(n): a for n, a in Item.objects.filter(pk__in=[i.pk for i in items], answer__isnull=False)
                .values_list("number", "answer_id")}
    answer = Answer.objects.create(case=case, text=text.strip(), updated_by=_user(actor))
    AnswerVersion.objects.create(answer=answer, version=1, text=answer.text, created_by=_user(actor))
    Item.objects.filter(pk__in=[i.pk for i in items]).update(answer=answer)
    for item in items:
        item.answer = answer
    audit.record(actor=actor, action=audit_actions.ANSWER_WRITE, obj=answer,
                 changes={"items": [i.number for i in items], "version": 1, **({"replaced": replaced} if replaced else {})})
    return answer


@transaction.atomic
def answer_update(*, actor: Any, answer: Answer, text: str) -> Answer:
    """Edit an answer: a new version; refused while the answer set is in approval or published."""
    _check_answers_open(answer.case)
    text = text.strip()
    if not text:
        raise ConsultationError(_("区の考え方を入力してください。"), code="answer_required")
    if text == answer.text:
        return answer
    before = audit.snapshot(answer, ["text", "version"])
    answer.text, answer.version, answer.updated_by = text, answer.version + 1, _user(actor)
    answer.save()
    AnswerVersion.objects.create(answer=answer, version=answer.version, text=text, created_by=_user(actor))
    audit.record(actor=actor, action=audit_actions.ANSWER_UPDATE, obj=answer,
                 changes=audit.diff(before, audit.snapshot(answer, ["text", "version"])))
    return answer


@transaction.atomic
def answer_assign(*, actor: Any, item: Item, answer: Answer | None) -> Item:
    """Answer this item together with others (同趣旨の意見はまとめて回答), or detach it."""
    _check_answers_open(item.case)
    if answer is not None and answer.case_id != item.case_id:
        raise ConsultationError(_("同じ案件の回答を選んでください。"), code="answers_other_case")
    before = audit.snapshot(item, ["answer_id"])
    item.answer = answer
    item.save(update_fields=["answer"])
    audit.record(actor=actor, action=audit_actions.ANSWER_ASSIGN, obj=item,
                 changes=audit.diff(before, audit.snapshot(item, ["answer_id"])))
    return item


@transaction.atomic
def standard_answer_create(*, actor: Any, title: str, text: str, department: Department | None = None) -> StandardAnswer:
    standard = StandardAnswer.objects.create(title=title, text=text, department=department)
    audit.record(actor=actor, action=audit_actions.STANDARD_ANSWER_CREATE, obj=standard, changes={"title": title})
    return standard


# --- routing --------------------------------------------------------------------------------

@transaction.atomic
@transaction.atomic
def routing_create(*, actor: Any, item: Item, department: Department, due_date: date, note: str = "") -> Routing:
    """Share an item with another department (担当部署に共有), to be answered by the due date."""
    if item.routings.filter(department=department, state=Routing.State.OPEN).exists():
        raise ConsultationError(format_lazy(_("{department}には既に共有しています。"), department=department.name),
                                code="already_routed", field="department")
    routing = Routing.objects.create(item=item, department=department, due_date=due_date, note=note,
                                     created_by=_user(actor))
    audit.record(actor=actor, action=audit_actions.ROUTING_CREATE, obj=routing,
                 changes={"item": item.number, "case": item.case.slug, "department": department.code,
                          "due_date": due_date})
    staff_mail.routing_created(routing)
    return routing


@transaction.atomic
def routing_complete(*, actor: Any, routing: Routing, response: str) -> Routing:
    """The receiving department's reply; the routing leaves its queue."""
    if routing.state != Routing.State.OPEN:
        raise ConsultationError(_("この共有は既に回答済みです。"), code="routing_answered")
    if not response.strip():
        raise ConsultationError(_("回答を入力してください。"), code="reply_required")
    routing.state, routing.response = Routing.State.DONE, response.strip()
    routing.done_by, routing.done_at = _user(actor), timezone.now()
    routing.save()
    audit.record(actor=actor, action=audit_actions.ROUTING_COMPLETE, obj=routing,
                 changes={"state": ["open", "done"]})
    return routing


# --- approval (決裁) ------------------------------------------------------------------------

DEFAULT_STEP_LABEL = "所属の承認者"
MAX_ROUTE_STEPS = 6


@dataclass(frozen=True)
class RouteStep:
    """One step of an approval route as staff set it: who decides at that level."""

    label: str
    department: Department | None = None
    role: int = Role.APPROVE
    users: Sequence[Any] = ()


def answer_set_snapshot(case: Case) -> dict[str, Any]:
    """Each published item's answer and its version (kept with every round, for the record)."""
    items = case.items.filter(excluded=False, withdrawn=False).select_related("answer").order_by("number")
    return {
        "items": {str(i.number): i.answer_id for i in items},
        "answers": {str(a.pk): a.version for a in case.answers.all()},
    }


def approval_route(case: Case) -> list[dict[str, Any]]:
    """The route a round requested now would follow, as it is stored with the round. Without
    steps of its own a case has the default route: one step, 承認 on the case's department."""
    steps = list(case.approval_steps.select_related("department").prefetch_related("users").order_by("position"))
    if not steps:
        return [{"label": DEFAULT_STEP_LABEL, "department_id": case.department_id, "department": case.department.name,
                 "role": int(Role.APPROVE), "user_ids": [], "users": []}]
    route = []
    for step in steps:
        department = step.department or case.department
        users = sorted(step.users.all(), key=lambda u: u.pk)
        route.append({"label": step.label, "department_id": department.pk, "department": department.name,
                      "role": step.role, "user_ids": [u.pk for u in users], "users": [str(u) for u in users]})
    return route


def may_decide(user: Any, step: dict[str, Any]) -> bool:
    """Who may decide a step: the named staff, or else a role on the step's department."""
    if not _is_user(user):
        return False
    if step.get("user_ids"):
        return user.pk in step["user_ids"]
    return permissions.has_role(user, step["department_id"], Role(step["role"]))


@transaction.atomic
def approval_route_set(*, actor: Any, case: Case, steps: Sequence[RouteStep]) -> list[ApprovalStep]:
    """Set the case's 決裁 route (e.g. 係長 → 課長 → 部長). Refused while a round is pending: the
    round follows the route it was requested with. An empty list restores the default route."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.approval_rounds.filter(state=ApprovalRound.State.PENDING).exists():
        raise ConsultationError(_("決裁中は決裁の経路を変更できません。差し戻されるか、起案を取り消してから変更してください。"), code="route_in_approval")
    if len(steps) > MAX_ROUTE_STEPS:
        raise ConsultationError(format_lazy(_("決裁の段階は{count}段階までです。"), count=MAX_ROUTE_STEPS),
                                code="route_too_long")
    labels = [step.label.strip() for step in steps]
    if any(not label for label in labels):
        raise ConsultationError(_("決裁の段階ごとに名称（係長・課長など）を入力してください。"), code="route_label_required")
    if len(set(labels)) != len(labels):
        raise ConsultationError(_("決裁の段階の名称が重複しています。"), code="route_label_duplicate")
    for step in steps:
        if step.role not in (Role.HANDLE, Role.APPROVE, Role.ADMIN):
            raise ConsultationError(_("決裁に必要な役割が正しくありません。"), code="route_role_invalid")
        if any(not getattr(u, "is_staff_member", False) for u in step.users):
            raise ConsultationError(_("決裁する職員には、職員のアカウントを指定してください。"), code="route_approver_not_staff")
    before = [s["label"] for s in approval_route(case)] if case.approval_steps.exists() else []
    case.approval_steps.all().delete()
    created = []
    for position, (step, label) in enumerate(zip(steps, labels, strict=True), start=1):
        row = ApprovalStep.objects.create(case=case, position=position, label=label, department=step.department,
                                          role=step.role)
        row.users.set(step.users)
        created.append(row)
    audit.record(actor=actor, action=audit_actions.APPROVAL_ROUTE_SET, obj=case,
                 changes={"route": [before, [{k: v for k, v in s.items() if k != "users"} for s in approval_route(case)]]})
    return created


def latest_published(case: Case) -> PublishedResult | None:
    return case.published_results.order_by("-version").first()


def _unitemised(case: Case) -> list[str]:
    """Counted submissions not yet cut into items: at approval every opinion must be in the table."""
    return list(case.submissions.counted().filter(items__isnull=True).order_by("receipt_seq")
                .values_list("receipt_number", flat=True))


def _pending_masks(case: Case) -> int:
    return Mask.objects.filter(item__case=case, decision=Mask.Decision.PENDING,
                               item__excluded=False, item__withdrawn=False).count()


@transaction.atomic
def approval_request(*, actor: Any, case: Case, comment: str = "", correction_note: str = "") -> ApprovalRound:
    """Send the published table for 決裁 (回答作成中 → 決裁中).

    The round records the exact table it asks to approve (every row, text with masks applied,
    answer and count) and its SHA-256: from now until a 差戻し every write that would change a
    published row is refused, and publication checks the table still has that digest. Every
    published item needs an answer, every submission its items, every detected span a decision.
    After publication a round is a 訂正: it needs the note that will be published with it, and
    a table that differs from the version published.
    """
    from hiroba.consultations import exports

    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.state != Case.State.ANSWERING:
        raise ConsultationError(_("回答作成中の案件だけ決裁に回せます。"), code="not_answering")
    missing = list(case.items.filter(excluded=False, withdrawn=False, answer__isnull=True)
                   .values_list("number", flat=True))
    if missing:
        raise ConsultationError(format_lazy(_("回答のない意見があります: No. {numbers}"), numbers="、".join(map(str, missing))),
                                code="items_unanswered")
    if not case.items.filter(excluded=False, withdrawn=False).exists():
        raise ConsultationError(_("公表する意見がありません。"), code="nothing_to_publish")
    unitemised = _unitemised(case)
    if unitemised:
        raise ConsultationError(format_lazy(_("意見（項目）に分けていない提出があります: 受付番号 {numbers}"),
                                            numbers="、".join(unitemised)), code="submissions_unitemised")
    pending = _pending_masks(case)
    if pending:
        raise ConsultationError(format_lazy(_("個人情報の確認が済んでいない箇所が{count}件あります。確認してから決裁に回してください。"),
                                            count=pending), code="masks_pending")
    pub = exports.build(case)
    digest = exports.digest(pub)
    published = latest_published(case)
    correction_note = correction_note.strip()
    if published is not None:
        if not correction_note:
            raise ConsultationError(format_lazy(_("公表済みの結果（第{version}版）の訂正です。公表する訂正の内容を入力してください。"),
                                                version=published.version),
                                    code="correction_note_required", field="correction_note")
        if digest == published.digest:
            raise ConsultationError(format_lazy(_("公表済みの第{version}版から変わっていません。訂正する内容がありません。"),
                                                version=published.version), code="correction_unchanged")
    else:
        correction_note = ""
    number = (case.approval_rounds.aggregate(m=Max("number"))["m"] or 0) + 1
    route = approval_route(case)
    round_ = ApprovalRound.objects.create(
        case=case, number=number, snapshot=answer_set_snapshot(case), route=route, step=0, digest=digest,
        table=exports.approved_part(pub), correction_note=correction_note, requested_by=_user(actor),
        comment=comment.strip(),
    )
    case.state = Case.State.APPROVING
    case.save(update_fields=["state", "updated_at"])
    audit.record(actor=actor, action=audit_actions.APPROVAL_REQUEST, obj=case,
                 changes={"state": ["answering", "approving"], "round": number, "digest": digest,
                          "route": [s["label"] for s in route],
                          **({"correction_note": correction_note} if correction_note else {})})
    staff_mail.approval_waiting(round_)
    return round_


@transaction.atomic
def approval_decide(*, actor: Any, round_: ApprovalRound, approve: bool, comment: str = "") -> ApprovalRound:
    """Decide the round's current step. 承認 passes the round to the next step (or approves it
    at the last); 差戻し, at any step, returns the case to the drafter (回答作成中) with the
    reason. The drafter never decides their own round, and nobody decides two of its steps."""
    from hiroba.consultations import exports

    round_ = ApprovalRound.objects.select_for_update().select_related("case").get(pk=round_.pk)
    if round_.state != ApprovalRound.State.PENDING:
        raise ConsultationError(_("この決裁は既に判断済みです。"), code="already_decided")
    step = round_.current_step
    if step is None:  # a round stored without a route (before routes existed): the default one
        round_.route, round_.step = approval_route(round_.case), 0
        step = round_.route[0]
    if not approve and not comment.strip():
        raise ConsultationError(_("差戻しの理由を入力してください。"), code="return_reason_required")
    if _is_user(actor):
        if round_.requested_by_id == actor.pk:
            raise ConsultationError(_("起案した職員は、自分の起案を決裁できません。"), code="own_request")
        if not may_decide(actor, step):
            raise ConsultationError(format_lazy(_("「{step}」の段階を決裁する権限がありません。"), step=step["label"]),
                                    code="step_not_allowed")
        if round_.decisions.filter(decided_by=actor).exists():
            raise ConsultationError(_("同じ職員が一つの決裁の複数の段階を決裁することはできません。"), code="same_approver")
    case = round_.case
    if approve and exports.digest(exports.build(case)) != round_.digest:
        raise ConsultationError(_("決裁に回した後に公表する内容が変わっています。差し戻して、決裁をやり直してください。"), code="changed_since_request")
    ApprovalDecision.objects.create(
        round=round_, step=round_.step, label=step["label"],
        decision=ApprovalDecision.Decision.APPROVE if approve else ApprovalDecision.Decision.RETURN,
        decided_by=_user(actor), comment=comment.strip(),
    )
    final = not approve or round_.step + 1 >= len(round_.route)
    if final:
        round_.state = ApprovalRound.State.APPROVED if approve else ApprovalRound.State.RETURNED
        round_.decided_by, round_.decided_at, round_.comment = _user(actor), timezone.now(), comment.strip()
    else:
        round_.step += 1
    round_.save()
    if not approve:
        case.state = Case.State.ANSWERING
        case.save(update_fields=["state", "updated_at"])
    audit.record(actor=actor, action=audit_actions.APPROVAL_APPROVE if approve else audit_actions.APPROVAL_RETURN, obj=case,
                 changes={"round": round_.number, "step": step["label"], "comment": comment.strip(),
                          "final": final})
    if not approve:
        staff_mail.approval_returned(round_, step["label"], comment.strip())
    elif not final:
        staff_mail.approval_waiting(round_)
    return round_


@transaction.atomic
def approval_reopen(*, actor: Any, case: Case, reason: str) -> Case:
    """Back to 回答作成中 to change the table: the drafter withdraws a request (決裁中), or a
    published case starts a 訂正 (公表済). A new round is needed either way; a published case
    keeps serving its published version until the 訂正 is approved and published."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.state not in (Case.State.APPROVING, Case.State.PUBLISHED):
        raise ConsultationError(_("決裁中または公表済みの案件だけやり直せます。"), code="cannot_redo")
    if not reason.strip():
        raise ConsultationError(_("やり直す理由を入力してください。"), code="redo_reason_required")
    pending = case.approval_rounds.filter(state=ApprovalRound.State.PENDING)
    pending.update(state=ApprovalRound.State.RETURNED, decided_at=timezone.now(), comment="回答修正のため取消し")
    before = case.state
    case.state = Case.State.ANSWERING
    case.save(update_fields=["state", "updated_at"])
    audit.record(actor=actor, action=audit_actions.APPROVAL_REOPEN, obj=case,
                 changes={"state": [before, "answering"], "reason": reason.strip(),
                          **({"correction": True} if before == Case.State.PUBLISHED else {})})
    return case


def latest_approved_round(case: Case) -> ApprovalRound | None:
    return case.approval_rounds.filter(state=ApprovalRound.State.APPROVED).order_by("-number").first()


def _store_publication(
    *, actor: Any, case: Case, pub: Any, day: date, source: str, round_: ApprovalRound | None, note: str = "",
) -> PublishedResult:
    """Write the next published version: the canonical JSON and the bytes of every format,
    rendered from that JSON exactly as the page will read it."""
    from hiroba.consultations import exports

    previous = latest_published(case)
    if previous is not None and day < previous.reported_on:
        raise ConsultationError(format_lazy(_("訂正日は前の版の公表日（{day}）以降にしてください。"),
                                            day=dates.wareki(previous.reported_on)), code="reported_on_before_previous")
    version = previous.version + 1 if previous else 1
    earlier = previous.data if previous else {}
    pub.version = version
    pub.reported_on = earlier.get("reported_on") or day.isoformat()
    pub.corrections = [*earlier.get("corrections", []),
                       *([{"version": version, "date": day.isoformat(), "note": note}] if previous else [])]
    data = exports.as_dict(pub)
    result = PublishedResult.objects.create(
        case=case, version=version, source=source, approval_round=round_, digest=exports.digest(pub),
        canonical_json=exports.canonical(data), reported_on=day, correction_note=note if previous else "",
        published_by=_user(actor),
    )
    for fmt, content in exports.render_all(exports.from_dict(data)).items():
        PublishedFile.objects.create(result=result, format=fmt, content=content,
                                     sha256=hashlib.sha256(content).hexdigest())
    return result


@transaction.atomic
def case_publish(*, actor: Any, case: Case, reported_on: date | None = None) -> Case:
    """決裁中 (approved) → 公表済: store the approved table as the next published version.

    Needs the latest round approved at every step, every mask reviewed, and the live table
    exactly as approved (same digest). From then on the results page and every download serve
    the stored version; a 訂正 publishes a new version beside it, with its dated note.
    """
    from hiroba.consultations import exports

    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.state != Case.State.APPROVING:
        raise ConsultationError(_("決裁中の案件だけ公表できます。"), code="not_approving")
    approved = latest_approved_round(case)
    latest = case.approval_rounds.order_by("-number").first()
    if approved is None or latest is None or latest.pk != approved.pk:
        raise ConsultationError(_("回答が決裁で承認されていません。"), code="not_approved")
    pending = _pending_masks(case)
    if pending:
        raise ConsultationError(format_lazy(_("個人情報の確認が済んでいない箇所が{count}件あります。"), count=pending),
                                code="masks_pending")
    pub = exports.build(case)
    if exports.digest(pub) != approved.digest:
        changed = exports.row_changes(approved.table, exports.approved_part(pub))
        raise ConsultationError(format_lazy(_("承認後に公表する内容が変わっています（{changed}）。決裁をやり直してください。"),
                                            changed="、".join(changed or [str(_("内容"))])),
                                code="changed_since_approval")
    day = reported_on or timezone.localdate()
    result = _store_publication(actor=actor, case=case, pub=pub, day=day, source=PublishedResult.Source.APPROVAL,
                                round_=approved, note=approved.correction_note)
    case.state = Case.State.PUBLISHED
    case.published_at = result.published_at
    case.reported_on = case.reported_on or day
    case.save(update_fields=["state", "published_at", "reported_on", "updated_at"])
    audit.record(actor=actor, action=audit_actions.CASE_PUBLISH, obj=case,
                 changes={"state": ["approving", "published"], "round": approved.number, "version": result.version,
                          "digest": result.digest,
                          **({"correction_note": result.correction_note} if result.correction_note else {})})
    return case


@transaction.atomic
def publication_import(*, actor: Any, case: Case) -> PublishedResult:
    """A past case brought in by the importer as published: its table as the paper printed it
    becomes its first published version (no approval round: it was approved at the time)."""
    from hiroba.consultations import exports

    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.published_results.exists():
        raise ConsultationError(_("この案件は既に公表されています。"), code="already_published")
    day = case.reported_on or timezone.localdate()
    result = _store_publication(actor=actor, case=case, pub=exports.build(case), day=day,
                                source=PublishedResult.Source.IMPORT, round_=None)
    audit.record(actor=actor, action=audit_actions.PUBLICATION_IMPORT, obj=case,
                 changes={"version": result.version, "digest": result.digest})
    return result


def published_file(result: PublishedResult, fmt: str) -> PublishedFile:
    return result.files.get(format=fmt)


# --- the department's own follow-up -----------------------------------------------------------

SUBMITTER_HEADERS = ["受付番号", "受付日時", "提出方法", "消印日", "氏名", "住所", "区分", "メールアドレス", "電話番号",
                     "本人確認", "該当箇所（提出時）", "意見の番号", "公表", "意見（原文）"]


@transaction.atomic
def submitters_export(*, actor: Any, case: Case, purpose: str) -> bytes:
    """Every submission with the submitter's details, for the department's own follow-up: a
    CSV for staff only, never published. Each export is audited with its stated purpose."""
    from hiroba.consultations import exports

    purpose = purpose.strip()
    if not purpose:
        raise ConsultationError(_("利用目的を入力してください。"), code="purpose_required", field="purpose")
    rows = []
    submissions = case.submissions.select_related("section").prefetch_related("items").order_by("receipt_seq")
    for s in submissions:
        items = sorted(s.items.all(), key=lambda i: i.number)
        status = "、".join(
            f"No.{i.number} " + ("取下げ" if i.withdrawn else "公表しない" if i.excluded else "公表") for i in items)
        rows.append([
            s.receipt_number, timezone.localtime(s.received_at).strftime("%Y-%m-%d %H:%M"),
            s.channel_label, s.postmark_date.isoformat() if s.postmark_date else "", s.name, s.address,
            exports.japanese(s.get_category_display()), s.email, s.phone, s.get_identity_status_display(),
            s.section.heading if s.section else "", "、".join(str(i.number) for i in items), status, s.text,
        ])
    audit.record(actor=actor, action=audit_actions.SUBMITTERS_EXPORT, obj=case,
                 changes={"purpose": purpose, "rows": len(rows), "format": "csv"})
    return exports.csv_bytes(SUBMITTER_HEADERS, rows)


# --- personal information -------------------------------------------------------------------

@transaction.atomic
def masks_detect(*, item: Item, detector: masking.Detector | None = None) -> list[Mask]:
    """Run the detector over the item's text and summary; structured kinds masked, others flagged."""
    check_table_open(item.case, _("個人情報のマスキング"))
    detect = detector or masking.get_detector()
    created: list[Mask] = []
    for field in ("text", "summary"):
        value = getattr(item, field)
        if value:
            created.extend(masks_propose(item=item, field=field, spans=detect(value)))
    return created


def masks_propose(*, item: Item, field: str, spans: Iterable[masking.Span], note: str = "") -> list[Mask]:
    """Mask proposals for detected spans of one field: kinds in `masking.AUTO_KINDS` masked
    (非公開), the others flagged (要確認). A span that already has a mask is left as it is, so
    staff decisions stand; returns the new masks."""
    created: list[Mask] = []
    for span in spans:
        auto = span["kind"] in masking.AUTO_KINDS
        mask, made = Mask.objects.get_or_create(
            item=item, field=field, start=span["start"], end=span["end"],
            defaults={"kind": str(span["kind"])[:30], "source": Mask.Source.AUTO if auto else Mask.Source.FLAG,
                      "decision": Mask.Decision.MASK if auto else Mask.Decision.PENDING, "note": note},
        )
        if made:
            created.append(mask)
    return created


@transaction.atomic
def mask_decide(*, actor: Any, mask: Mask, decision: str, note: str = "") -> Mask:
    """Keep (公開) or hide (非公開) a detected span; undoing an automatic mask is allowed."""
    check_table_open(mask.item.case, _("個人情報のマスキング"))
    if decision not in (Mask.Decision.MASK, Mask.Decision.KEEP):
        raise ConsultationError(_("判断を選んでください。"), code="decision_required")
    before = audit.snapshot(mask, ["decision"])
    mask.decision, mask.note = decision, note[:200]
    mask.decided_by, mask.decided_at = _user(actor), timezone.now()
    mask.save()
    audit.record(actor=actor, action=audit_actions.MASK_DECIDE, obj=mask,
                 changes={**audit.diff(before, audit.snapshot(mask, ["decision"])), "kind": mask.kind,
                          "item": mask.item.number})
    return mask


@transaction.atomic
def mask_add(*, actor: Any, item: Item, field: str, start: int, end: int, note: str = "") -> Mask:
    """Staff hide a span the detector missed."""
    check_table_open(item.case, _("個人情報のマスキング"))
    value = getattr(item, field)
    if not (0 <= start < end <= len(value)):
        raise ConsultationError(_("非公開にする範囲が正しくありません。"), code="mask_span_invalid")
    mask, _created = Mask.objects.update_or_create(
        item=item, field=field, start=start, end=end,
        defaults={"kind": "staff", "source": Mask.Source.STAFF, "decision": Mask.Decision.MASK,
                  "decided_by": _user(actor), "decided_at": timezone.now(), "note": note[:200]},
    )
    audit.record(actor=actor, action=audit_actions.MASK_ADD, obj=mask,
                 changes={"item": item.number, "field": field, "start": start, "end": end})
    return mask


def masked_text(item: Item, field: str = "text") -> str:
    """The text every export uses: masked and still-pending spans replaced."""
    value = getattr(item, field)
    spans = [(m.start, m.end) for m in item.masks.all()
             if m.field == field and m.decision != Mask.Decision.KEEP]
    return masking.apply(value, spans)


# --- impersonation --------------------------------------------------------------------------

@transaction.atomic
def impersonation_report_create(
    *, case: Case, receipt_number: str, reporter_name: str, reporter_contact: str, statement: str,
) -> ImpersonationReport:
    """Anyone may say an opinion was submitted in their name; staff review it."""
    submission = Submission.objects.filter(case=case, receipt_number=receipt_number.strip()).first()
    report = ImpersonationReport.objects.create(
        case=case, receipt_number=receipt_number.strip(), submission=submission,
        reporter_name=reporter_name, reporter_contact=reporter_contact, statement=statement,
    )
    audit.record(actor="public", action=audit_actions.IMPERSONATION_REPORT, obj=report,
                 changes={"case": case.slug, "receipt_number": report.receipt_number})
    return report


@transaction.atomic
def impersonation_review(
    *, actor: Any, report: ImpersonationReport, uphold: bool, note: str, submission: Submission | None = None,
) -> ImpersonationReport:
    """Staff decide; when upheld, every item of the submission is withdrawn with the reason."""
    if report.state != ImpersonationReport.State.NEW:
        raise ConsultationError(_("この申告は既に確認済みです。"), code="report_reviewed")
    if not note.strip():
        raise ConsultationError(_("確認結果を入力してください。"), code="review_note_required")
    submission = submission or report.submission
    if uphold and submission is None:
        raise ConsultationError(_("対象の提出（受付番号）を特定してください。"), code="submission_required")
    report.state = ImpersonationReport.State.UPHELD if uphold else ImpersonationReport.State.REJECTED
    report.submission = submission
    report.reviewed_by, report.reviewed_at, report.review_note = _user(actor), timezone.now(), note.strip()
    report.save()
    if uphold and submission is not None:
        for item in submission.items.filter(withdrawn=False):
            item_withdraw(actor=actor, item=item, reason=f"なりすまし申告により取下げ（{note.strip()}）")
    audit.record(actor=actor, action=audit_actions.IMPERSONATION_REVIEW, obj=report,
                 changes={"state": ["new", report.state]})
    return report


def _is_user(actor: Any) -> bool:
    return bool(getattr(actor, "is_authenticated", False))


def _user(actor: Any) -> Any:
    return actor if _is_user(actor) else None
