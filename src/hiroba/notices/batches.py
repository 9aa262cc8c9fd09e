"""Batches: check a file, create the batch (every notice rendered and hashed), approval by a
second person holding 承認 on the type's department, and dispatch.

Dispatch works in chunks, each one transaction: the chunk's notices leave 作成 (to 送信待ち with
their e-mail stored in the outbox, or to paper) and the outbox rows commit together. A worker
killed mid-batch leaves every notice either done or still 作成; running dispatch again (or
several dispatchers at once: each takes rows the others have not locked) finishes the rest, and
nobody is sent twice or skipped."""

from __future__ import annotations

import hashlib
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from hiroba.core import audit, bulk, notify
from hiroba.core.actors import Actor, ActorLike
from hiroba.core.errors import NotAllowed, ServiceError
from hiroba.notices import audit_actions, conf, lifecycle, reading, types
from hiroba.notices.models import (
    Batch,
    BatchState,
    Consent,
    Notice,
    NoticeTemplate,
    NoticeType,
    PaperReason,
    Recipient,
    Route,
    Status,
)

MAIL_TEMPLATE = "notices/mail/waiting"
#: What `batch_create` writes of each notice; the other columns are NULL until the notice moves.
NOTICE_COLUMNS = ("batch", "recipient", "template", "row_number", "status", "route", "paper_reason", "values", "title",
                  "content_html", "content_sha256", "created_at", "opened_as")


class Person(NamedTuple):
    """The recipient of a row: what rendering and routing read, loaded as a tuple (a batch has
    tens of thousands of rows; a model instance each was a tenth of the check)."""

    pk: int
    atena_number: str
    name: str
    postal_code: str
    address: str


@dataclass
class Row:
    number: int
    recipient: Person
    values: dict[str, str]
    route: str
    reason: str


@dataclass
class Check:
    notice_type: NoticeType
    template: NoticeTemplate
    rows: list[Row] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    sha256: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.rows)

    def counts(self) -> dict[str, Any]:
        paper = Counter(r.reason for r in self.rows if r.route == Route.PAPER)
        return {"digital": sum(1 for r in self.rows if r.route == Route.DIGITAL),
                "paper": sum(paper.values()), "paper_reasons": dict(sorted(paper.items()))}


def _reachable(notice_type: NoticeType, batch: Batch | None = None) -> tuple[set[int], dict[int, str]]:
    """(the ids of the recipients who consent to the type now, {recipient id: e-mail} of those of
    them with an active account): of the recipients of `batch`, or of everyone when no batch exists
    yet. Two queries for a whole batch, whatever its size — not a look-up per chunk, nor an IN list
    of every row."""
    consents = Consent.objects.filter(notice_type=notice_type, withdrawn_at__isnull=True)
    if batch is not None:
        consents = consents.filter(recipient__notices__batch=batch)
    consenting = set(consents.values_list("recipient_id", flat=True))
    digital = {pk: email for pk, email, active in
               Recipient.objects.filter(pk__in=consents.values("recipient_id"), user__isnull=False)
               .values_list("pk", "user__email", "user__is_active") if active and email}
    return consenting, digital


def route_of(recipient_id: int, consenting: set[int], digital: dict[int, str]) -> tuple[str, str]:
    if recipient_id in digital:
        return Route.DIGITAL, ""
    return Route.PAPER, (PaperReason.NO_EMAIL if recipient_id in consenting else PaperReason.NOT_OPTED_IN)


def batch_check(*, notice_type: NoticeType, raw: bytes) -> Check:
    """Validate a batch file against the type's current template, and route every row."""
    template = notice_type.current_template()
    if template is None:
        raise ServiceError(_("この種類にはテンプレートがありません。先にテンプレートを作成してください。"),
                           code="no_template")
    check = Check(notice_type=notice_type, template=template, sha256=hashlib.sha256(raw).hexdigest())
    sheet = reading.read(raw)
    needed = template.fields()
    header = sheet.header
    if "宛名番号" not in header:
        check.errors.append((1, str(_("見出しに「宛名番号」の列がありません。"))))
        return check
    for name in needed:
        if name not in header:
            check.errors.append((1, str(format_lazy(_("テンプレートの差し込み項目「{name}」の列がありません。"),
                                                    name=name))))
    seen_headers: set[str] = set()
    for name in header:
        if name in seen_headers:
            check.errors.append((1, str(format_lazy(_("列「{name}」が二つあります。"), name=name))))
        seen_headers.add(name)
        if name != "宛名番号" and name not in needed:
            check.errors.append((1, str(format_lazy(_("列「{name}」はテンプレートで使われていません。"),
                                                    name=name or "（空）"))))
    index = {h: i for i, h in enumerate(header)}
    atenas = [unicodedata.normalize("NFKC", row[index["宛名番号"]] if index["宛名番号"] < len(row) else "").strip()
              for _n, row in sheet.rows]
    known = {p.atena_number: p for p in map(Person._make, Recipient.objects.filter(atena_number__in=set(atenas))
                                                .values_list("pk", "atena_number", "name", "postal_code", "address"))}
    seen: dict[str, int] = {}
    good: list[tuple[int, Person, dict[str, str]]] = []
    for (number, row), atena in zip(sheet.rows, atenas, strict=True):
        if len(row) > len(header) and any(row[len(header):]):
            check.errors.append((number, str(_("見出しのない列に値があります。"))))
            continue
        if not atena:
            check.errors.append((number, str(_("宛名番号が空です。"))))
            continue
        if atena in seen:
            check.errors.append((number, str(format_lazy(_("宛名番号「{n}」は{row}行目と重複しています。"), n=atena,
                                                         row=seen[atena]))))
            continue
        seen[atena] = number
        recipient = known.get(atena)
        if recipient is None:
            check.errors.append((number, str(format_lazy(_("宛名番号「{n}」は宛名にありません。"), n=atena))))
            continue
        values = {name: (row[index[name]] if index[name] < len(row) else "").strip()
                  for name in needed if name in index}
        empty = [name for name, value in values.items() if not value]
        if empty:
            check.errors.append((number, str(format_lazy(_("「{names}」が空です。"), names="」「".join(empty)))))
            continue
        good.append((number, recipient, values))
    consenting, digital = _reachable(notice_type)
    for number, recipient, values in good:
        route, reason = route_of(recipient.pk, consenting, digital)
        check.rows.append(Row(number=number, recipient=recipient, values=values, route=route, reason=reason))
    if not sheet.rows:
        check.errors.append((1, str(_("データの行がありません。"))))
    return check


def batch_create(*, actor: ActorLike, check: Check, filename: str = "") -> Batch:
    """The batch and its notices (作成, each rendered and hashed), awaiting approval."""
    if not check.ok:
        raise ServiceError(_("エラーのある行があります。すべて直してから作成してください。"), code="rows_in_error")
    a = Actor.of(actor)
    if a.user is not None and not a.user.has_perm("notices.handle_batch", check.notice_type):
        raise NotAllowed(_("この種類の書面を扱う権限がありません。"))
    now = bulk.db_value(Notice, "created_at", timezone.now())
    with transaction.atomic():
        batch = Batch.objects.create(notice_type=check.notice_type, template=check.template, filename=filename[:200],
                                     file_sha256=check.sha256, row_count=len(check.rows), created_by=a.account(),
                                     created_label=a.audit_label[:254])
        template = check.template
        notices = []
        for row in check.rows:
            title, content, digest = types.render(template, row.recipient, row.values)
            notices.append((batch.pk, row.recipient.pk, template.pk, row.number, Status.CREATED.value, row.route,
                            row.reason, bulk.db_value(Notice, "values", row.values), title, content, digest, now,
                            ""))
        # tuples, not a Notice each: building and preparing 20,000 instances was most of the batch's time
        bulk.insert_rows(Notice, NOTICE_COLUMNS, notices, size=1000)
        audit.record(actor=a, action=audit_actions.BATCH_CREATE, obj=batch,
                     changes={"template_version": check.template.version, "file_sha256": check.sha256,
                              **check.counts()})
    return batch


def _template_is_current(batch: Batch) -> None:
    current = batch.notice_type.current_template()
    if current is None or current.pk != batch.template_id:
        raise ServiceError(_("承認後にテンプレートが変更されました。新しいテンプレートでバッチを作り直し、"
                             "承認を受けてください。"), code="template_changed")


def batch_approve(*, actor: ActorLike, batch: Batch) -> Batch:
    """承認 by a staff member other than the creator, holding 承認 on the type's department."""
    a = Actor.of(actor)
    if a.user is None or not a.is_staff:
        raise NotAllowed(_("承認は職員が行います。"))
    with transaction.atomic():
        locked = Batch.objects.select_for_update().select_related("notice_type").get(pk=batch.pk)
        if locked.created_by_id == a.user.pk:
            raise NotAllowed(_("作成者本人は承認できません。所属の承認者に依頼してください。"))
        _template_is_current(locked)
        before, after = Batch.workflow.apply(locked, "approve", actor=a)
        locked.approved_by = a.user
        locked.approved_at = timezone.now()
        locked.save(update_fields=["state", "approved_by", "approved_at"])
        audit.record(actor=a, action=audit_actions.BATCH_APPROVE, obj=locked, changes={"state": [before, after]})
    return locked


#: Seconds a dispatch routes by the consents and accounts it read, before it reads them again.
CONSENTS_FRESH = 60.0


@dataclass
class DispatchResult:
    queued: int = 0
    paper: int = 0
    finished: bool = False
    limited: bool = False  # stopped at NOTICES_MAILS_PER_HOUR; the rest is sent by a later run


def mail_quota() -> int | None:
    """How many more notice e-mails may be queued in the current hour (None: no limit)."""
    limit = int(conf.get("NOTICES_MAILS_PER_HOUR"))
    if limit <= 0:
        return None
    from hiroba.core.models import Notification

    recent = Notification.objects.filter(template=MAIL_TEMPLATE,
                                         created_at__gt=timezone.now() - timedelta(hours=1)).count()
    return max(0, limit - recent)


def _dispatch_chunk(batch: Batch, actor: ActorLike, chunk: int, now: datetime,
                    reachable: tuple[set[int], dict[int, str]] | None = None,
                    after: int = 0) -> tuple[int, int, int] | None:
    """Dispatch the next `chunk` notices still 作成 with an id above `after`: (queued, paper, the
    last id taken), or None when there is none."""
    with transaction.atomic():
        rows = list(Notice.objects.filter(batch=batch, status=Status.CREATED, pk__gt=after).order_by("pk")
                    .select_for_update(skip_locked=True).values_list("pk", "recipient_id")[:chunk])
        if not rows:
            return None
        consenting, digital = reachable or _reachable(batch.notice_type, batch)
        by_reason: dict[str, list[int]] = {}
        by_email: dict[str, list[int]] = {}
        for pk, recipient_id in rows:
            route, reason = route_of(recipient_id, consenting, digital)
            if route == Route.DIGITAL:
                by_email.setdefault(digital[recipient_id], []).append(pk)
            else:
                by_reason.setdefault(reason, []).append(pk)
        queued = 0
        if by_email:
            due = now + timedelta(days=batch.notice_type.fallback_days)
            mails = notify.send(template=MAIL_TEMPLATE, to=list(by_email), about=batch, context={
                "type_name": batch.notice_type.name, "due": due,
                "url": conf.site_url(reverse("notices:home"))})
            mail_of = {pk: mail.pk for mail in mails for pk in by_email[mail.recipient]}
            # each notice points at its own e-mail, set with its new status: one UPDATE … FROM (VALUES …)
            # for the chunk, not one per mail nor a second one for the links
            moved = lifecycle.move(Notice.objects.filter(pk__in=list(mail_of)), "queue", actor=actor, now=now,
                                   each=("notification", mail_of), route=Route.DIGITAL, paper_reason="",
                                   queued_at=now, fallback_due_at=due)
            queued += len(moved)
        paper = 0
        for reason, ids in by_reason.items():
            paper += len(lifecycle.move(Notice.objects.filter(pk__in=ids), "to_paper", actor=actor, now=now,
                                        note=reason, route=Route.PAPER, paper_reason=reason, paper_at=now))
        return queued, paper, rows[-1][0]


def batch_dispatch(*, actor: ActorLike, batch: Batch, chunk: int = 500, pause: float = 0.0,
                   now: datetime | None = None) -> DispatchResult:
    """Send an approved batch (or finish one a dead worker left 送付処理中). Idempotent."""
    a = Actor.of(actor)
    now = now or timezone.now()
    with transaction.atomic():
        locked = Batch.objects.select_for_update().select_related("notice_type").get(pk=batch.pk)
        if locked.state == BatchState.DISPATCHED:
            return DispatchResult(finished=True)
        if locked.state == BatchState.APPROVED:
            _template_is_current(locked)
            before, after = Batch.workflow.apply(locked, "dispatch", actor=a)
            locked.save(update_fields=["state"])
            audit.record(actor=a, action=audit_actions.BATCH_DISPATCH, obj=locked, changes={"state": [before, after]})
        elif locked.state != BatchState.DISPATCHING:
            Batch.workflow.check(locked, "dispatch", actor=a)
    result = DispatchResult()
    reachable, read_at = _reachable(locked.notice_type, locked), time.monotonic()
    # each chunk starts after the last id taken: the query does not walk again the rows already moved
    # (quadratic in the batch); one more pass from the start picks up what another dispatcher held
    # locked and then left (killed), so nothing is skipped
    last_id = 0
    while True:
        quota = mail_quota()
        if quota == 0:
            result.limited = True
            break
        if time.monotonic() - read_at > CONSENTS_FRESH:  # a slow (paced) dispatch sees withdrawals within a minute
            reachable, read_at = _reachable(locked.notice_type, locked), time.monotonic()
        done = _dispatch_chunk(locked, a, chunk if quota is None else min(chunk, quota), now, reachable, last_id)
        if done is None:
            if last_id == 0:
                break
            last_id = 0
            continue
        result.queued += done[0]
        result.paper += done[1]
        last_id = done[2]
        if pause:
            time.sleep(pause)  # the mail server's rate: this many notices per pause
    with transaction.atomic():
        final = Batch.objects.select_for_update().get(pk=batch.pk)
        if final.state == BatchState.DISPATCHING and not Notice.objects.filter(batch=final,
                                                                               status=Status.CREATED).exists():
            Batch.workflow.apply(final, "finish", actor=Actor.system("dispatch"))
            final.dispatched_at = timezone.now()
            final.save(update_fields=["state", "dispatched_at"])
            result.finished = True
    return result


def batch_cancel(*, actor: ActorLike, batch: Batch) -> Batch:
    a = Actor.of(actor)
    with transaction.atomic():
        locked = Batch.objects.select_for_update().select_related("notice_type").get(pk=batch.pk)
        before, after = Batch.workflow.apply(locked, "cancel", actor=a)
        locked.save(update_fields=["state"])
        audit.record(actor=a, action=audit_actions.BATCH_CANCEL, obj=locked, changes={"state": [before, after]})
    return locked
