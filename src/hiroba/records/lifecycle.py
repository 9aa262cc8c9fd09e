"""The end of a file's period: the expiry list each April, 廃棄・移管・延長 asked for by the
department and approved by the records manager, legal holds, and the disposal record kept forever.

The only way a file becomes 廃棄済 or 移管済 is `disposition_approve` (the records manager's
APPROVE role, someone other than the requester, no active hold); it writes the
`DisposalRecord` in the same transaction.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import TYPE_CHECKING, Any, TypedDict

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from hiroba.accounts.queries import department_handlers
from hiroba.core import audit, notify
from hiroba.core.actors import ActorLike
from hiroba.core.dates import fiscal_year_label
from hiroba.core.errors import NotAllowed, ServiceError
from hiroba.core.models import Department
from hiroba.records import audit_actions as actions
from hiroba.records.models import (
    DisposalRecord,
    Disposition,
    ExpiryNotice,
    LegalHold,
    RecordFile,
    Retention,
)
from hiroba.records.register import FIELDS
from hiroba.records.services import require, user_of, who


class ExpiryFlags(TypedDict):
    on_hold: bool  # a legal hold not yet released
    pending: bool  # a disposition requested, not yet decided


if TYPE_CHECKING:  # django-stubs-ext is a development dependency
    from django_stubs_ext import WithAnnotations

    ExpiringFile = WithAnnotations[RecordFile, ExpiryFlags]


def expiring(fiscal_year: int, qs: QuerySet[RecordFile] | None = None) -> QuerySet[ExpiringFile]:
    """The expiry list of April of `fiscal_year`: files still kept whose period ended by the
    31 March before it, with no approved decision yet."""
    qs = RecordFile.objects.all() if qs is None else qs
    return (qs.filter(state=RecordFile.State.ACTIVE, expiry_date__lt=date(fiscal_year, 4, 1))
            .annotate(on_hold=Exists(LegalHold.objects.filter(file=OuterRef("pk"), released_at__isnull=True)),
                      pending=Exists(Disposition.objects.filter(file=OuterRef("pk"),
                                                                state=Disposition.State.REQUESTED)))
            .select_related("department").order_by("department__sort_order", "expiry_date", "name"))


# --- holds ------------------------------------------------------------------------------

@transaction.atomic
def hold_place(*, actor: ActorLike, file: RecordFile, kind: str, reason: str) -> LegalHold:
    """訴訟・開示請求対応: keep the file whatever its period says, until released."""
    require(actor, "records.place_hold", file, _("保存の継続を設定する権限がありません。"))
    if kind not in LegalHold.Kind.values:
        raise ServiceError(_("種別の値が正しくありません。"), code="hold_kind", field="kind")
    if not reason.strip():
        raise ServiceError(_("保存を継続する理由を入力してください。"), code="reason_required", field="reason")
    file = RecordFile.objects.select_for_update().get(pk=file.pk)
    if file.state != RecordFile.State.ACTIVE:
        raise ServiceError(_("廃棄・移管済みのファイルには設定できません。"), code="not_active")
    hold = LegalHold.objects.create(file=file, kind=kind, reason=reason.strip(), placed_by=user_of(actor))
    audit.record(actor=who(actor), action=actions.HOLD_PLACE, obj=file, changes={"kind": kind, "reason": reason,
                                                                                "hold": hold.pk})
    return hold


@transaction.atomic
def hold_release(*, actor: ActorLike, hold: LegalHold, reason: str) -> LegalHold:
    hold = LegalHold.objects.select_for_update(of=("self",)).select_related("file").get(pk=hold.pk)
    require(actor, "records.place_hold", hold.file, _("保存の継続を解除する権限がありません。"))
    if hold.released_at is not None:
        raise ServiceError(_("この保存の継続は解除されています。"), code="hold_released")
    if not reason.strip():
        raise ServiceError(_("解除する理由を入力してください。"), code="reason_required", field="reason")
    hold.released_at = timezone.now()
    hold.released_by = user_of(actor)
    hold.save(update_fields=["released_at", "released_by"])
    audit.record(actor=who(actor), action=actions.HOLD_RELEASE, obj=hold.file, changes={"hold": hold.pk,
                                                                                       "reason": reason})
    return hold


# --- dispositions -----------------------------------------------------------------------

def _refuse_if_held(file: RecordFile) -> None:
    hold = file.active_hold()
    if hold is not None:
        raise ServiceError(format_lazy(_("{kind}のため保存を継続しています（{reason}）。廃棄・移管はできません。"),
                                       kind=hold.get_kind_display(), reason=hold.reason), code="on_hold")


@transaction.atomic
def disposition_request(*, actor: ActorLike, file: RecordFile, kind: str, reason: str = "",
                        extend_years: int | None = None, today: date | None = None) -> Disposition:
    """The department asks for 廃棄, 移管 or 延長 of a file whose period has ended (or ends this
    fiscal year). 廃棄・移管 must be the action the register settled; 延長 needs a reason."""
    require(actor, "records.request_disposition", file, _("満了時の措置を申請する権限がありません。"))
    file = RecordFile.objects.select_for_update().get(pk=file.pk)
    today = today or timezone.localdate()
    if file.state != RecordFile.State.ACTIVE:
        raise ServiceError(_("このファイルは廃棄・移管済みです。"), code="not_active")
    if file.expiry_date is None:
        raise ServiceError(_("常用のファイルには保存期間の満了がありません。"), code="permanent_use")
    end_of_year = date(today.year + (1 if today.month >= 4 else 0), 3, 31)
    if file.expiry_date > end_of_year:
        raise ServiceError(format_lazy(_("保存期間満了日（{day}）が今年度より後です。"), day=file.expiry_date.isoformat()),
                           code="not_expiring")
    if Disposition.objects.filter(file=file, state=Disposition.State.REQUESTED).exists():
        raise ServiceError(_("このファイルには承認待ちの申請があります。"), code="pending")
    if kind not in Disposition.Kind.values:
        raise ServiceError(_("措置の値が正しくありません。"), code="kind", field="kind")
    if kind == Disposition.Kind.EXTEND:
        if not reason.strip():
            raise ServiceError(_("延長する理由を入力してください。"), code="reason_required", field="reason")
        if not extend_years or extend_years < 1 or extend_years > 30:
            raise ServiceError(_("延長する年数は1〜30年で入力してください。"), code="extend_years", field="extend_years")
    else:
        _refuse_if_held(file)
        if kind != file.action:
            raise ServiceError(format_lazy(_("管理簿の保存期間満了時の措置は「{action}」です。"),
                                           action=file.get_action_display()), code="action_mismatch", field="kind")
    d = Disposition.objects.create(file=file, kind=kind, reason=reason.strip(),
                                   extend_years=extend_years if kind == Disposition.Kind.EXTEND else None,
                                   requested_by=user_of(actor))
    audit.record(actor=who(actor), action=actions.DISPOSITION_REQUEST, obj=file,
                 changes={"disposition": d.pk, "kind": kind, "reason": reason, "extend_years": d.extend_years})
    return d


def _name(user: Any, actor: ActorLike) -> str:
    if user is not None:
        return user.get_full_name() if hasattr(user, "get_full_name") and user.get_full_name() else str(user)
    return str(who(actor))


@transaction.atomic
def disposition_approve(*, actor: ActorLike, disposition: Disposition, note: str = "") -> Disposition:
    """The records manager approves: 廃棄・移管 are carried out and recorded now (for ever),
    延長 sets the new 満了日."""
    d = Disposition.objects.select_for_update(of=("self",)).select_related("file", "file__classification",
                                                               "requested_by").get(pk=disposition.pk)
    file = RecordFile.objects.select_for_update().get(pk=d.file_id)
    Disposition.workflow.check(d, "approve", actor=actor)
    approver = user_of(actor)
    if approver is not None and approver.pk == d.requested_by_id:
        raise NotAllowed(_("申請した本人は承認できません（別の職員が承認します）。"))
    if d.kind != Disposition.Kind.EXTEND:
        _refuse_if_held(file)
    before, after = Disposition.workflow.apply(d, "approve", actor=actor)
    d.decided_at = timezone.now()
    d.decided_by = approver
    d.decision_note = note.strip()
    d.save(update_fields=["state", "decided_at", "decided_by", "decision_note"])
    audit.record(actor=who(actor), action=actions.DISPOSITION_APPROVE, obj=file,
                 changes={"disposition": d.pk, "state": [before, after], "kind": d.kind})
    if d.kind == Disposition.Kind.EXTEND:
        old = file.expiry_date
        assert old is not None and d.extend_years
        file.expiry_date = date(old.year + d.extend_years, old.month, old.day)
        file.extended_times += 1
        file.note = (file.note + " " if file.note else "") + f"延長{file.extended_times}回目: {d.reason}"[:200]
        file.save(update_fields=["expiry_date", "extended_times", "note"])
        audit.record(actor=who(actor), action=actions.FILE_EXTEND, obj=file,
                     changes={"expiry_date": [old.isoformat(), file.expiry_date.isoformat()], "reason": d.reason})
        return d
    snapshot = audit.snapshot(file, FIELDS)
    name = "dispose" if d.kind == Disposition.Kind.DISPOSE else "transfer"
    state_before, state_after = RecordFile.workflow.apply(file, name, actor=actor)
    file.save(update_fields=["state"])
    classification = file.classification
    rule = (f"{file.large} / {file.medium} / {file.small}".rstrip(" /") + f"・保存期間 {Retention(file.retention).label}"
            + f"（満了 {file.expiry_date.isoformat() if file.expiry_date else '—'}）"
            + (f"・分類ID {classification.pk}" if classification else ""))
    DisposalRecord.objects.create(file=file, disposition=d, kind=d.kind, approved_by_name=_name(approver, actor),
                                  requested_by_name=_name(d.requested_by, "—"), rule=rule[:400], snapshot=snapshot)
    audit.record(actor=who(actor), action=actions.FILE_DISPOSE if name == "dispose" else actions.FILE_TRANSFER,
                 obj=file, changes={"state": [state_before, state_after], "disposition": d.pk, "rule": rule})
    return d


@transaction.atomic
def disposition_reject(*, actor: ActorLike, disposition: Disposition, reason: str) -> Disposition:
    d = Disposition.objects.select_for_update(of=("self",)).select_related("file").get(pk=disposition.pk)
    before, after = Disposition.workflow.apply(d, "reject", actor=actor, reason=reason)
    d.decided_at = timezone.now()
    d.decided_by = user_of(actor)
    d.decision_note = reason.strip()
    d.save(update_fields=["state", "decided_at", "decided_by", "decision_note"])
    audit.record(actor=who(actor), action=actions.DISPOSITION_REJECT, obj=d.file,
                 changes={"disposition": d.pk, "state": [before, after], "reason": reason})
    return d


# --- the April notice -------------------------------------------------------------------

def expiry_notices_send(*, actor: ActorLike = "system", today: date | None = None, site_url: str = "") -> int:
    """Mail each department its expiry list of this fiscal year, once (run daily from April)."""
    today = today or timezone.localdate()
    fiscal_year = today.year if today.month >= 4 else today.year - 1
    counts: dict[int, int] = defaultdict(int)
    for department_id in expiring(fiscal_year).values_list("department_id", flat=True):
        counts[department_id] += 1
    done = set(ExpiryNotice.objects.filter(fiscal_year=fiscal_year).values_list("department_id", flat=True))
    handlers = department_handlers(set(counts) - done, today)
    sent = 0
    for department in Department.objects.filter(pk__in=set(counts) - done):
        with transaction.atomic():
            users = handlers.get(department.pk, [])
            notice, created = ExpiryNotice.objects.get_or_create(
                department=department, fiscal_year=fiscal_year,
                defaults={"file_count": counts[department.pk], "recipients": len(users)})
            if not created:
                continue
            url = (site_url.rstrip("/") if site_url else "") + f"/staff/records/expiry/?department={department.pk}"
            for user in users:
                notify.send(template="records/mail/expiry_notice", to=user.email, about=notice, context={
                    "department": department.name, "count": counts[department.pk],
                    "year": fiscal_year_label(fiscal_year), "url": url})
                sent += 1
            audit.record(actor=who(actor), action=actions.EXPIRY_NOTICE, obj=notice,
                         changes={"department": department.pk, "fiscal_year": fiscal_year,
                                  "files": counts[department.pk], "recipients": len(users)})
    return sent
