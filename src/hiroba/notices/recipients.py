"""The ward's recipient list, residents' consent per type, and representatives."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from hiroba.core import audit
from hiroba.core.actors import Actor, ActorLike
from hiroba.core.errors import NotAllowed, ServiceError
from hiroba.notices import audit_actions, reading
from hiroba.notices.models import Consent, NoticeType, Recipient, RecipientUpload, Representative

RECIPIENT_COLUMNS = ("宛名番号", "氏名", "郵便番号", "住所", "生年月日", "メールアドレス")
POSTAL = re.compile(r"^\d{3}-?\d{4}$")


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def refused(self) -> int:
        return len(self.errors)


def _row_values(number: int, cells: dict[str, str], seen: set[str]) -> tuple[dict[str, Any] | None, str]:
    atena = unicodedata.normalize("NFKC", cells["宛名番号"]).strip()
    if not atena:
        return None, str(_("宛名番号が空です。"))
    if atena in seen:
        return None, str(format_lazy(_("宛名番号「{n}」が重複しています。"), n=atena))
    seen.add(atena)
    for column in ("氏名", "郵便番号", "住所", "生年月日"):
        if not cells[column]:
            return None, str(format_lazy(_("{column}が空です。"), column=column))
    postal = unicodedata.normalize("NFKC", cells["郵便番号"]).strip()
    if not POSTAL.match(postal):
        return None, str(format_lazy(_("郵便番号「{value}」は7桁の数字で書いてください。"), value=postal))
    birth = reading.parse_date(cells["生年月日"])
    if birth is None:
        return None, str(format_lazy(_("生年月日「{value}」を日付として読めません。"), value=cells["生年月日"]))
    email = unicodedata.normalize("NFKC", cells["メールアドレス"]).strip().lower()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            return None, str(format_lazy(_("メールアドレス「{value}」の形式が正しくありません。"), value=email))
    postal = postal if "-" in postal else f"{postal[:3]}-{postal[3:]}"
    return {"atena_number": atena, "name": cells["氏名"], "postal_code": postal, "address": cells["住所"],
            "birth_date": birth, "email": email}, ""


@dataclass
class Plan:
    """What importing a file would do: the rows to create, those to change (with the fields
    that change), and the refused rows."""

    result: ImportResult
    new: list[Recipient] = field(default_factory=list)
    changed: list[tuple[Recipient, list[str]]] = field(default_factory=list)


def recipients_plan(raw: bytes) -> Plan:
    """Read a recipient list and compare it with the register, writing nothing."""
    sheet = reading.read(raw)
    missing = [c for c in RECIPIENT_COLUMNS if c not in sheet.header]
    if missing:
        raise ServiceError(format_lazy(_("見出しに次の列がありません: {columns}"), columns="、".join(missing)),
                           code="missing_columns")
    index = {h: i for i, h in enumerate(sheet.header)}
    plan = Plan(result=ImportResult())
    seen: set[str] = set()
    good: dict[str, dict[str, Any]] = {}
    for number, row in sheet.rows:
        cells = {c: (row[index[c]] if index[c] < len(row) else "").strip() for c in RECIPIENT_COLUMNS}
        values, error = _row_values(number, cells, seen)
        if values is None:
            plan.result.errors.append((number, error))
        else:
            good[values["atena_number"]] = values
    existing = {r.atena_number: r for r in Recipient.objects.filter(atena_number__in=list(good))}
    now = timezone.now()
    for atena, values in good.items():
        current = existing.get(atena)
        if current is None:
            plan.new.append(Recipient(imported_at=now, **values))
            continue
        fields = [k for k, v in values.items() if getattr(current, k) != v]
        if not fields:
            plan.result.unchanged += 1
            continue
        for k in fields:
            setattr(current, k, values[k])
        current.imported_at = now
        plan.changed.append((current, fields))
    plan.result.created, plan.result.updated = len(plan.new), len(plan.changed)
    return plan


def recipients_import(*, actor: ActorLike, raw: bytes, filename: str = "") -> ImportResult:
    """Create or update the recipients of a file; rows in error are refused (and listed), the
    others are imported in one transaction."""
    with transaction.atomic():
        plan = recipients_plan(raw)
        result = plan.result
        Recipient.objects.bulk_create(plan.new, batch_size=1000)
        Recipient.objects.bulk_update([r for r, _fields in plan.changed], ["name", "postal_code", "address",
                                                                            "birth_date", "email", "imported_at"],
                                      batch_size=1000)
        audit.record(actor=Actor.of(actor), action=audit_actions.RECIPIENTS_IMPORT, object_type="notices.recipient",
                     object_repr=filename[:200], changes={"created": result.created, "updated": result.updated,
                                                          "unchanged": result.unchanged, "refused": result.refused})
    return result


def upload_stage(*, actor: ActorLike, raw: bytes, filename: str = "") -> RecipientUpload:
    """Keep an uploaded recipient list for its preview (the file must read: a header with every
    column); nothing is imported yet."""
    plan = recipients_plan(raw)
    a = Actor.of(actor)
    with transaction.atomic():
        upload = RecipientUpload.objects.create(filename=filename[:200], file_sha256=hashlib.sha256(raw).hexdigest(),
                                                content=raw, created_by=a.account(),
                                                summary=_summary(plan.result))
        audit.record(actor=a, action=audit_actions.RECIPIENTS_STAGE, obj=upload,
                     changes={"file_sha256": upload.file_sha256, **upload.summary})
    return upload


def _summary(result: ImportResult) -> dict[str, int]:
    return {"created": result.created, "updated": result.updated, "unchanged": result.unchanged,
            "refused": result.refused}


def upload_apply(*, actor: ActorLike, upload: RecipientUpload) -> ImportResult:
    """Import a previewed list (compared again with the register as it is now); the stored file
    is then deleted."""
    with transaction.atomic():
        locked = RecipientUpload.objects.select_for_update().get(pk=upload.pk)
        if locked.state != RecipientUpload.State.PREVIEW:
            raise ServiceError(_("このアップロードは反映済みか破棄済みです。"), code="not_preview")
        result = recipients_import(actor=actor, raw=bytes(locked.content), filename=locked.filename)
        locked.state, locked.content, locked.finished_at = RecipientUpload.State.APPLIED, b"", timezone.now()
        locked.summary = _summary(result)
        locked.save(update_fields=["state", "content", "finished_at", "summary"])
    return result


def upload_discard(*, actor: ActorLike, upload: RecipientUpload) -> None:
    with transaction.atomic():
        locked = RecipientUpload.objects.select_for_update().get(pk=upload.pk)
        if locked.state != RecipientUpload.State.PREVIEW:
            return
        locked.state, locked.content, locked.finished_at = RecipientUpload.State.DISCARDED, b"", timezone.now()
        locked.save(update_fields=["state", "content", "finished_at"])
        audit.record(actor=Actor.of(actor), action=audit_actions.RECIPIENTS_DISCARD, obj=locked)


def recipient_of(user: Any) -> Recipient | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return Recipient.objects.filter(user=user).first()


def account_link(*, user: Any, atena_number: str, birth_date: Any) -> Recipient:
    """A resident confirms they are the person of a 宛名番号 (number and date of birth from the
    ward's letter), and their account is linked to it."""
    if not getattr(user, "is_resident", False):
        raise NotAllowed(_("区民等のアカウントでログインしてください。"))
    atena = unicodedata.normalize("NFKC", atena_number).strip()
    with transaction.atomic():
        recipient = Recipient.objects.select_for_update().filter(atena_number=atena, birth_date=birth_date).first()
        if recipient is None:
            raise ServiceError(_("宛名番号と生年月日が一致しません。区からの通知に記載の番号をご確認ください。"),
                               code="no_match", field="atena_number")
        if recipient.user_id and recipient.user_id != user.pk:
            raise ServiceError(_("この宛名番号は別のアカウントに登録されています。区にお問い合わせください。"),
                               code="linked_elsewhere", field="atena_number")
        if Recipient.objects.filter(user=user).exclude(pk=recipient.pk).exists():
            raise ServiceError(_("このアカウントには別の宛名番号が登録されています。"), code="already_linked")
        recipient.user = user
        recipient.save(update_fields=["user"])
        audit.record(actor=Actor.resident(user), action=audit_actions.ACCOUNT_LINK, obj=recipient)
    return recipient


def active_consent(recipient: Recipient, notice_type: NoticeType) -> Consent | None:
    return Consent.objects.filter(recipient=recipient, notice_type=notice_type, withdrawn_at__isnull=True).first()


def consent_give(*, user: Any, notice_type: NoticeType, version: int) -> Consent:
    """Opt in to one type, agreeing to the consent text's current version (from the form)."""
    recipient = recipient_of(user)
    if recipient is None:
        raise ServiceError(_("先に宛名番号の確認をしてください。"), code="not_linked")
    if version != notice_type.consent_version:
        raise ServiceError(_("同意の文言が更新されました。新しい文言をお読みのうえ、もう一度同意してください。"),
                           code="consent_version")
    with transaction.atomic():
        Recipient.objects.select_for_update().get(pk=recipient.pk)
        current = active_consent(recipient, notice_type)
        if current is not None:
            return current
        consent = Consent.objects.create(recipient=recipient, notice_type=notice_type, consent_version=version,
                                         given_by=user)
        audit.record(actor=Actor.resident(user), action=audit_actions.CONSENT_GIVE, obj=consent,
                     changes={"notice_type": notice_type.slug, "consent_version": version})
    return consent


def consent_withdraw(*, user: Any, notice_type: NoticeType) -> None:
    """Withdraw at any time; batches made from now on send this type on paper."""
    recipient = recipient_of(user)
    if recipient is None:
        return
    with transaction.atomic():
        consent = Consent.objects.select_for_update().filter(recipient=recipient, notice_type=notice_type,
                                                             withdrawn_at__isnull=True).first()
        if consent is None:
            return
        consent.withdrawn_at = timezone.now()
        consent.save(update_fields=["withdrawn_at"])
        audit.record(actor=Actor.resident(user), action=audit_actions.CONSENT_WITHDRAW, obj=consent,
                     changes={"notice_type": notice_type.slug})


def representative_grant(*, actor: ActorLike, recipient: Recipient, user: Any, types: list[NoticeType],
                         kind: str = Representative.Kind.REPRESENTATIVE) -> Representative:
    """Register a 代理人 (or a guardian) who may read the recipient's notices of `types`."""
    if not getattr(user, "is_resident", False):
        raise ServiceError(_("代理人には区民等のアカウントを指定してください。"), code="not_resident")
    if recipient.user_id == user.pk:
        raise ServiceError(_("本人を代理人にすることはできません。"), code="self")
    with transaction.atomic():
        rep = Representative.objects.filter(recipient=recipient, user=user, revoked_at__isnull=True).first()
        if rep is None:
            rep = Representative.objects.create(recipient=recipient, user=user, kind=kind)
        rep.types.set(types)
        audit.record(actor=Actor.of(actor), action=audit_actions.REPRESENTATIVE_GRANT, obj=rep,
                     changes={"kind": kind, "types": sorted(t.slug for t in types)})
    return rep


def representative_revoke(*, actor: ActorLike, representative: Representative) -> None:
    with transaction.atomic():
        rep = Representative.objects.select_for_update().get(pk=representative.pk)
        if rep.revoked_at is not None:
            return
        rep.revoked_at = timezone.now()
        rep.save(update_fields=["revoked_at"])
        audit.record(actor=Actor.of(actor), action=audit_actions.REPRESENTATIVE_REVOKE, obj=rep)
