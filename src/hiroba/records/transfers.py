"""Segment transfer (インターネット系 ↔ LGWAN系): a department's clerk asks to carry files across,
each file's content is checked when it is received (`hiroba.records.contentcheck`), the
requester's supervisor approves, and only then are the safe copies handed over — the originals
never are. Every step is audited with the SHA-256 of the original and of the safe copy.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import PurePath
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hiroba.core import audit
from hiroba.core.actors import Actor, ActorLike
from hiroba.core.errors import NotAllowed, ServiceError
from hiroba.core.models import Department
from hiroba.records import audit_actions as actions
from hiroba.records import conf, contentcheck
from hiroba.records.models import TransferFile, TransferRendering, TransferRequest
from hiroba.records.services import require, require_department, user_of, who

# Office files that cross get a PDF copy too (LibreOffice, in the background worker).
OFFICE = frozenset(contentcheck.OOXML.values())


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _safe_name(name: str, verdict: contentcheck.Verdict) -> str:
    return f"{PurePath(name).stem or 'file'}{verdict.safe_name_suffix}"[:255]


@transaction.atomic
def request_create(*, actor: ActorLike, department: Department, direction: str, reason: str,
                   files: Sequence[tuple[str, bytes]]) -> TransferRequest:
    """Receive the files, check each by its content, and record the request (申請中) with every
    file's verdict; refused files are kept (with their hash) but never handed over."""
    require_department(actor, department)
    if direction not in TransferRequest.Direction.values:
        raise ServiceError(_("転送の方向の値が正しくありません。"), code="direction", field="direction")
    if not reason.strip():
        raise ServiceError(_("転送する理由を入力してください。"), code="reason_required", field="reason")
    if not files:
        raise ServiceError(_("転送するファイルを選んでください。"), code="no_files", field="files")
    req = TransferRequest.objects.create(direction=direction, department=department, reason=reason.strip()[:500],
                                         requested_by=user_of(actor))
    logged, office = [], []
    for name, data in files:
        verdict = contentcheck.check(data)
        safe = verdict.safe if verdict.verdict != contentcheck.REFUSED else None
        f = TransferFile.objects.create(
            request=req, name=PurePath(name).name[:255] or "file", size=len(data), original=data,
            sha256_before=_sha256(data), detected_type=verdict.detected, verdict=verdict.verdict,
            verdict_reason=verdict.reason[:500], safe=safe, safe_name=_safe_name(name, verdict) if safe else "",
            sha256_after=_sha256(safe) if safe is not None else "")
        if f.crosses and f.detected_type in OFFICE:
            office.append(f.pk)
        logged.append({"file": f.pk, "name": f.name, "type": f.detected_type, "verdict": f.verdict,
                       "sha256_before": f.sha256_before, "sha256_after": f.sha256_after})
    audit.record(actor=who(actor), action=actions.TRANSFER_REQUEST, obj=req,
                 changes={"direction": direction, "department": department.pk, "reason": req.reason,
                          "files": logged})
    if office and conf.soffice() is not None:
        transaction.on_commit(lambda: _queue_renderings(office))
    return req


def _queue_renderings(file_ids: list[int]) -> None:
    from hiroba.records import tasks

    for pk in file_ids:
        tasks.render_transfer_pdf.enqueue(pk)


def rendering_make(file: TransferFile) -> TransferRendering:
    """The PDF copy of an Office file that crosses, drawn from its macro-free copy and checked as
    any PDF is (one with active content is kept as its rendering to images); made once — a second
    call, or a task run twice, returns the first. A conversion that fails is kept with its reason."""
    done = TransferRendering.objects.filter(file=file).first()
    if done is not None:
        return done
    if file.safe is None or not file.crosses or file.detected_type not in OFFICE:
        raise ServiceError(_("PDF版を作れるのは受け渡すOfficeファイルだけです。"), code="not_office")
    try:
        verdict = contentcheck.check(contentcheck.render_office(bytes(file.safe), file.detected_type))
        if verdict.detected != "pdf" or verdict.verdict == contentcheck.REFUSED or verdict.safe is None:
            raise ValueError(verdict.reason)
        pdf, error = verdict.safe, ""
    except ValueError as exc:
        pdf, error = None, str(exc)[:500] or "LibreOffice"
    with transaction.atomic():
        locked = TransferFile.objects.select_for_update().get(pk=file.pk)
        done = TransferRendering.objects.filter(file=locked).first()
        if done is not None:  # another worker made it meanwhile
            return done
        made = TransferRendering.objects.create(file=locked, pdf=pdf, sha256=_sha256(pdf) if pdf else "",
                                                error="" if pdf else error)
        audit.record(actor=Actor.system("records.transfer"), action=actions.TRANSFER_RENDER, obj=locked.request,
                     changes={"file": file.pk, "sha256_before": file.sha256_after, "sha256_after": made.sha256,
                              "error": made.error})
    return made


def _locked(req: TransferRequest) -> TransferRequest:
    return TransferRequest.objects.select_for_update(of=("self",)).get(pk=req.pk)


@transaction.atomic
def request_approve(*, actor: ActorLike, request: TransferRequest, note: str = "") -> TransferRequest:
    req = _locked(request)
    TransferRequest.workflow.check(req, "approve", actor=actor)
    approver = user_of(actor)
    if approver is not None and approver.pk == req.requested_by_id:
        raise NotAllowed(_("申請した本人は承認できません（所属の承認者が承認します）。"))
    if not req.files.exclude(verdict=TransferFile.Verdict.REFUSED).exists():
        raise ServiceError(_("受け渡せるファイルがありません（すべて拒否されています）。"), code="nothing_to_transfer")
    return _decide(actor, req, "approve", note, actions.TRANSFER_APPROVE)


@transaction.atomic
def request_reject(*, actor: ActorLike, request: TransferRequest, reason: str) -> TransferRequest:
    return _decide(actor, _locked(request), "reject", reason, actions.TRANSFER_REJECT)


@transaction.atomic
def request_withdraw(*, actor: ActorLike, request: TransferRequest) -> TransferRequest:
    req = _locked(request)
    user = user_of(actor)
    if user is not None and user.pk != req.requested_by_id:
        raise NotAllowed(_("取り下げられるのは申請した本人だけです。"))
    before, after = TransferRequest.workflow.apply(req, "withdraw", actor=actor)
    req.save(update_fields=["state"])
    audit.record(actor=who(actor), action=actions.TRANSFER_WITHDRAW, obj=req, changes={"state": [before, after]})
    return req


def _decide(actor: ActorLike, req: TransferRequest, name: str, note: str, action: str) -> TransferRequest:
    before, after = TransferRequest.workflow.apply(req, name, actor=actor, reason=note)
    req.decided_at = timezone.now()
    req.decided_by = user_of(actor)
    req.decision_note = note.strip()[:500]
    req.save(update_fields=["state", "decided_at", "decided_by", "decision_note"])
    audit.record(actor=who(actor), action=action, obj=req,
                 changes={"state": [before, after], "note": req.decision_note})
    return req


@transaction.atomic
def safe_copy(*, actor: ActorLike, file: TransferFile, as_pdf: bool = False) -> tuple[str, bytes]:
    """The safe copy of an approved request's file (name, bytes), or with `as_pdf` its PDF copy,
    audited with both hashes; the first download marks the request 受け渡し済み. Refused before
    approval, and for refused files."""
    req = _locked(file.request)
    require(actor, "records.request_transfer", req, _("この転送の写しを受け取る権限がありません。"))
    if req.state not in (TransferRequest.State.APPROVED, TransferRequest.State.DELIVERED):
        raise NotAllowed(_("承認されるまで写しは受け渡せません。"))
    if file.safe is None or not file.crosses:
        raise NotAllowed(_("このファイルは拒否されたため受け渡せません。"))
    name, data, expected = file.safe_name, bytes(file.safe), file.sha256_after
    if as_pdf:
        rendering = TransferRendering.objects.filter(file=file).first()
        if rendering is None or rendering.pdf is None:
            raise NotAllowed(_("このファイルのPDF版はありません。"))
        name, data, expected = f"{PurePath(file.name).stem or 'file'}.pdf"[:255], bytes(rendering.pdf), rendering.sha256
    if _sha256(data) != expected:
        raise ServiceError(_("写しのハッシュ値が記録と一致しません。受け渡しを中止しました。"), code="hash_mismatch")
    changes: dict[str, Any] = {"file": file.pk, "name": name, "sha256_before": file.sha256_before,
                               "sha256_after": expected}
    if req.state == TransferRequest.State.APPROVED:
        changes["state"] = list(TransferRequest.workflow.apply(req, "deliver", actor=actor))
        req.delivered_at = timezone.now()
        req.save(update_fields=["state", "delivered_at"])
    audit.record(actor=who(actor), action=actions.TRANSFER_DOWNLOAD, obj=req, changes=changes)
    return name, data
