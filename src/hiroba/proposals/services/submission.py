"""Proposals being written and received: a resident's draft and its submission, staff entry for a group."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from hiroba.accounts import permissions
from hiroba.accounts.models import Role, User
from hiroba.core import audit
from hiroba.core.actors import ActorLike
from hiroba.core.receipts import receipt_number, take_next
from hiroba.proposals import audit_actions as actions
from hiroba.proposals import files
from hiroba.proposals.models import (
    BENEFICIARIES_MAX,
    IDEA_MAX,
    LABEL_MAX,
    PROBLEM_MAX,
    TITLE_MAX,
    Attachment,
    Call,
    Proposal,
    ProposalVersion,
    ProposerCategory,
)
from hiroba.proposals.services._common import _jp, _now
from hiroba.proposals.services.errors import (
    SubmissionRefused,
)


def _check_text(*, title: str, problem: str, idea: str, beneficiaries: str, proposer_category: str,
                proposer_label: str) -> None:
    limits = (("title", _("提案名"), title, TITLE_MAX), ("problem", _("地域の課題"), problem, PROBLEM_MAX),
              ("idea", _("解決のアイデア"), idea, IDEA_MAX),
              ("beneficiaries", _("誰のためになるか"), beneficiaries, BENEFICIARIES_MAX),
              ("proposer_label", _("団体名・事業者名"), proposer_label, LABEL_MAX))
    for field, label, value, limit in limits:
        if len(value) > limit:
            raise SubmissionRefused(
                format_lazy(_("{label}は{limit}文字以内で入力してください（現在{length}文字）。"),
                            label=label, limit=limit, length=len(value)),
                code="too_long", field=field)
    for field, label, value, _limit in limits[:4]:
        if not value.strip():
            raise SubmissionRefused(format_lazy(_("{label}を入力してください。"), label=label), code="required",
                                    field=field)
    if proposer_category not in ProposerCategory.values:
        raise SubmissionRefused(_("提案者の区分を選んでください。"), code="required", field="proposer_category")
    if proposer_category != ProposerCategory.INDIVIDUAL and not proposer_label.strip():
        raise SubmissionRefused(_("団体・事業者として提案する場合は、団体名・事業者名を入力してください"
                                  "（事業者からの提案であることは公開されます）。"),
                                code="required", field="proposer_label")


def _require_open_for_submission(call: Call, now: datetime | None) -> None:
    if not call.is_submission_open(now):
        raise SubmissionRefused(
            format_lazy(_("募集期間外のため受け付けられません（募集期間：{start}〜{end}）。"),
                        start=_jp(call.submission_start), end=_jp(call.submission_end)),
            code="closed",
        )


def _store_files(proposal: Proposal, uploads: Sequence[Any]) -> list[Attachment]:
    stored = []
    for upload in uploads:
        data = upload.read()
        checked = files.check(data, getattr(upload, "name", ""))
        attachment = Attachment(proposal=proposal, original_name=(getattr(upload, "name", "") or "file")[:200],
                                content_type=checked.content_type, size=checked.size, sha256=checked.sha256)
        ext = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}[checked.content_type]
        attachment.file.save(f"upload.{ext}", ContentFile(data), save=False)
        attachment.save()
        stored.append(attachment)
    return stored


def _save_version(proposal: Proposal) -> ProposalVersion:
    number = (proposal.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    return ProposalVersion.objects.create(proposal=proposal, number=number, title=proposal.title,
                                          problem=proposal.problem, idea=proposal.idea,
                                          beneficiaries=proposal.beneficiaries)


TEXT_FIELDS = ["title", "problem", "idea", "beneficiaries", "proposer_category", "proposer_label"]


@transaction.atomic
def proposal_save(
    *,
    proposer: User,
    call: Call,
    proposal: Proposal | None = None,
    proposer_category: str,
    proposer_label: str = "",
    title: str,
    problem: str,
    idea: str,
    beneficiaries: str,
    new_files: Sequence[Any] = (),
    remove_attachment_ids: Iterable[int] = (),
    now: datetime | None = None,
) -> Proposal:
    """Save a resident's proposal: a new draft, a draft being corrected, or a submitted proposal
    being edited before the deadline (each edit of a submitted proposal keeps the previous text
    as a version)."""
    if not getattr(proposer, "is_resident", False):
        raise SubmissionRefused(_("提案は区民等のアカウントでログインして行ってください。"), code="not_resident")
    _require_open_for_submission(call, now)
    if proposer_category == ProposerCategory.INDIVIDUAL:
        proposer_label = ""
    _check_text(title=title, problem=problem, idea=idea, beneficiaries=beneficiaries,
                proposer_category=proposer_category, proposer_label=proposer_label)
    if proposal is None:
        proposal = Proposal(call=call, proposer=proposer)
    else:
        proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
        if proposal.proposer_id != proposer.pk or proposal.call_id != call.pk:
            raise PermissionDenied
    before = audit.snapshot(proposal, TEXT_FIELDS) if proposal.pk else {}
    proposal.proposer_category = proposer_category
    proposal.proposer_label = proposer_label.strip()
    proposal.title, proposal.problem = title.strip(), problem.strip()
    proposal.idea, proposal.beneficiaries = idea.strip(), beneficiaries.strip()
    proposal.save()
    removed = list(proposal.attachments.filter(pk__in=list(remove_attachment_ids)))
    for attachment in removed:
        attachment.file.delete(save=False)
        attachment.delete()
    if proposal.attachments.count() + len(new_files) > files.MAX_FILES:
        raise SubmissionRefused(format_lazy(_("添付ファイルは{n}件までです。"), n=files.MAX_FILES), code="too_many_files",
                                field="attachments")
    try:
        added = _store_files(proposal, new_files)
    except files.AttachmentRefused as exc:
        raise SubmissionRefused(exc.args[0], code="attachment", field="attachments") from exc
    if proposal.status == Proposal.Status.SUBMITTED:
        _save_version(proposal)
        changes: dict[str, Any] = audit.diff(before, audit.snapshot(proposal, TEXT_FIELDS))
        if added or removed:
            changes["attachments"] = {"added": [a.sha256 for a in added], "removed": [a.sha256 for a in removed]}
        audit.record(actor=proposer, action=actions.PROPOSAL_REVISE, obj=proposal, changes=changes)
    return proposal


def _next_receipt(call: Call) -> str:
    # The call row's counter (core.receipts): concurrent submissions queue on its row lock.
    return receipt_number(call.receipt_prefix, take_next(Call, call.pk, "last_receipt_seq"))


@transaction.atomic
def proposal_submit(*, proposer: User, proposal: Proposal, now: datetime | None = None) -> Proposal:
    """Confirm a draft: it gets its 受付番号 on commit. Submitting again returns the same proposal."""
    proposal = Proposal.objects.select_for_update().select_related("call").get(pk=proposal.pk)
    if proposal.proposer_id != proposer.pk:
        raise PermissionDenied
    if proposal.status == Proposal.Status.SUBMITTED:
        return proposal
    _require_open_for_submission(proposal.call, now)
    proposal.receipt_number = _next_receipt(proposal.call)
    proposal.status = Proposal.Status.SUBMITTED
    proposal.submitted_at = _now(now)
    proposal.save(update_fields=["receipt_number", "status", "submitted_at", "updated_at"])
    _save_version(proposal)
    audit.record(actor=proposer, action=actions.PROPOSAL_SUBMIT, obj=proposal,
                 changes={"receipt_number": proposal.receipt_number,
                          "attachments": proposal.attachments.count()})
    return proposal


@transaction.atomic
def proposal_submit_on_behalf(
    *,
    actor: ActorLike,
    call: Call,
    title: str,
    problem: str,
    idea: str,
    beneficiaries: str,
    proposer_label: str,
    source: str,
    now: datetime | None = None,
) -> Proposal:
    """Staff enter a proposal for a group (a workshop's output, a paper form): it is received at
    once with a 受付番号, as proposer category "group", and audited. Until the call's deadline."""
    user = actor if isinstance(actor, User) else None
    if user is None or not permissions.has_role(user, call.department_id, Role.HANDLE):
        raise PermissionDenied(_("代理入力は募集の担当所属の職員が行います。"))
    if timezone.localdate(_now(now)) > call.submission_end:
        raise SubmissionRefused(format_lazy(_("募集は{end}に締め切られています。"), end=_jp(call.submission_end)),
                                code="closed")
    _check_text(title=title, problem=problem, idea=idea, beneficiaries=beneficiaries,
                proposer_category=ProposerCategory.GROUP, proposer_label=proposer_label)
    if not source.strip():
        raise SubmissionRefused(_("受付経路（例: workshop:12）を指定してください。"), code="source_missing")
    proposal = Proposal.objects.create(
        call=call, proposer=None, entered_by=user, proposer_category=ProposerCategory.GROUP,
        proposer_label=proposer_label.strip(), title=title.strip(), problem=problem.strip(), idea=idea.strip(),
        beneficiaries=beneficiaries.strip(), source=source.strip()[:100],
        receipt_number=_next_receipt(call), status=Proposal.Status.SUBMITTED, submitted_at=_now(now),
    )
    _save_version(proposal)
    audit.record(actor=actor, action=actions.PROPOSAL_SUBMIT_ON_BEHALF, obj=proposal,
                 changes=audit.diff({}, audit.snapshot(proposal, TEXT_FIELDS + ["source", "receipt_number"])))
    return proposal
