"""Every write of the proposals app: calls, proposals, screening, voting, results, follow-up.

One function per use case, keyword-only, atomic. Staff writes are audited; a resident's vote is
deliberately *not* written to the audit log (the chain is a global lock, and an entry per vote
would put a time next to each voter's choices). Services check the rules of the contest (phase,
limits, eligibility) and raise `ProposalsError` subclasses whose message is shown to the person
as is; the views check who may call them.

`now` parameters are the clock: views never pass one; the demo and tests do.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from hiroba.accounts import permissions
from hiroba.accounts.models import IdentityLevel, Relationship, Role, User
from hiroba.core import audit
from hiroba.core.errors import ServiceError
from hiroba.core.models import Department
from hiroba.core.receipts import receipt_number, take_next
from hiroba.core.text import fold
from hiroba.proposals import audit_actions as actions
from hiroba.proposals import ballots as ballot_math
from hiroba.proposals import files, scoring
from hiroba.proposals.models import (
    BENEFICIARIES_MAX,
    IDEA_MAX,
    LABEL_MAX,
    PROBLEM_MAX,
    REASON_MAX,
    TITLE_MAX,
    Attachment,
    Ballot,
    Call,
    CallResult,
    FollowUp,
    Milestone,
    Participation,
    Proposal,
    ProposalVersion,
    ProposerCategory,
    ReviewAssignment,
    Reviewer,
    RubricCriterion,
    Score,
    ScreeningDecision,
    VoteRequest,
    VoterVerification,
)


class ProposalsError(ServiceError):
    """A refusal with a message for the person (translatable), a ``code`` and, where a form field
    is concerned, the ``field`` (views call ``err.add_to_form(form)``)."""


class CallInvalid(ProposalsError):
    pass


class SubmissionRefused(ProposalsError):
    pass


class ScreeningRefused(ProposalsError):
    pass


class VoteRefused(ProposalsError):
    pass


class AlreadyProcessed(VoteRefused):
    """The same request (idempotency key) was already carried out: nothing changed."""

    code = "replayed"


class VerificationRefused(ProposalsError):
    pass


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _jp(day: date) -> str:
    from hiroba.core.dates import wareki_with_seireki

    return wareki_with_seireki(day)


# --- Calls ---------------------------------------------------------------------------------------

DEFAULT_RUBRIC: tuple[tuple[str, str, int, int], ...] = (
    ("課題の明確さ", "地域の課題が具体的に示されているか", 2, 5),
    ("実現可能性", "区の事業として実施できる見込みがあるか", 2, 5),
    ("効果", "区民や地域にとっての効果の大きさ", 3, 5),
    ("費用", "費用に見合う効果が期待できるか", 1, 5),
    ("独自性", "新しい視点や発想があるか", 1, 5),
)


@dataclass(frozen=True)
class CriterionSpec:
    name: str
    description: str = ""
    weight: int = 1
    scale_max: int = 5


def _criteria_specs(criteria: Iterable[CriterionSpec | Sequence[Any]] | None) -> list[CriterionSpec]:
    if criteria is None:
        return [CriterionSpec(*row) for row in DEFAULT_RUBRIC]
    specs = [c if isinstance(c, CriterionSpec) else CriterionSpec(*c) for c in criteria]
    if not specs:
        raise CallInvalid(_("審査項目を1つ以上設定してください。"), code="criteria_missing")
    names = [s.name.strip() for s in specs]
    if len(set(names)) != len(names) or not all(names):
        raise CallInvalid(_("審査項目の名称は空にできず、重複もできません。"), code="criteria_names")
    for s in specs:
        if not (1 <= s.weight <= 10 and 2 <= s.scale_max <= 10):
            raise CallInvalid(format_lazy(_("審査項目「{name}」: 重みは1〜10、満点は2〜10にしてください。"), name=s.name),
                              code="criteria_range")
    return specs


def _validate_call(call: Call) -> None:
    if not (call.submission_start <= call.submission_end < call.voting_start <= call.voting_end
            < call.results_on <= call.implementation_on):
        raise CallInvalid(_("日程は 募集開始 ≦ 募集締切 ＜ 投票開始 ≦ 投票締切 ＜ 結果公表 ≦ 事業化 の順にしてください。"),
                          code="schedule_order")
    residencies = list(call.eligible_residencies)
    if not residencies or any(r not in Relationship.values for r in residencies):
        raise CallInvalid(_("投票できる方（在住・在勤・在学）を1つ以上選んでください。"), code="residencies",
                          field="eligible_residencies")
    restricted = set(residencies) != set(Relationship.values) or call.min_age is not None or call.max_age is not None
    if restricted and call.voting_identity_level != IdentityLevel.VERIFIED:
        raise CallInvalid(_("在住・在勤・在学や年齢で投票資格を限る場合は、投票に「本人確認済み」を求めてください"
                            "（本人確認の記録でしか確かめられないため）。"),
                          code="identity_level", field="voting_identity_level")
    if call.min_age is not None and call.max_age is not None and call.min_age > call.max_age:
        raise CallInvalid(_("年齢の下限が上限を超えています。"), code="age_range", field="min_age")
    if not 1 <= call.votes_per_voter <= 20:
        raise CallInvalid(_("1人あたりの票数は1〜20にしてください。"), code="votes_per_voter",
                          field="votes_per_voter")
    if not 1 <= call.reviewers_per_proposal <= 10:
        raise CallInvalid(_("1提案あたりの審査員数は1〜10にしてください。"), code="reviewers_per_proposal",
                          field="reviewers_per_proposal")


CALL_FIELDS = [
    "title", "theme", "rules", "eligible_residencies", "min_age", "max_age", "submission_start",
    "submission_end", "voting_start", "voting_end", "results_on", "implementation_on", "votes_per_voter",
    "voting_identity_level", "reviewers_per_proposal", "disagreement_threshold", "published_at",
]


@transaction.atomic
def call_create(
    *,
    actor: Any,
    department: Department,
    title: str,
    theme: str,
    rules: str = "",
    slug: str | None = None,
    receipt_prefix: str | None = None,
    submission_start: date | None = None,
    submission_end: date | None = None,
    voting_start: date | None = None,
    voting_end: date | None = None,
    results_on: date | None = None,
    implementation_on: date | None = None,
    criteria: Iterable[CriterionSpec | Sequence[Any]] | None = None,
    votes_per_voter: int = 3,
    voting_identity_level: str = IdentityLevel.VERIFIED,
    eligible_residencies: Iterable[str] | None = None,
    min_age: int | None = None,
    max_age: int | None = None,
    reviewers_per_proposal: int = 2,
    disagreement_threshold: Decimal | float = Decimal("1.5"),
    publish: bool = False,
    now: datetime | None = None,
) -> Call:
    """Open a new 募集 with its rubric (default: the five criteria of the ward's contest).

    Dates left out follow from the ones before: 30 days of 募集, 3 weeks of 審査, 2 weeks of 投票,
    results a week later, 事業化 a month after that. The workshops app calls this for a call of
    its own (then fills it with `proposal_submit_on_behalf`).
    """
    today = timezone.localdate(_now(now))
    submission_start = submission_start or today
    submission_end = submission_end or submission_start + timedelta(days=30)
    voting_start = voting_start or submission_end + timedelta(days=22)
    voting_end = voting_end or voting_start + timedelta(days=13)
    results_on = results_on or voting_end + timedelta(days=7)
    implementation_on = implementation_on or results_on + timedelta(days=30)
    call = Call(
        department=department, title=title.strip(), theme=theme.strip(), rules=rules.strip(),
        slug=slug or f"call-{secrets.token_hex(4)}", receipt_prefix="",
        eligible_residencies=list(eligible_residencies or Relationship.values),
        min_age=min_age, max_age=max_age,
        submission_start=submission_start, submission_end=submission_end, voting_start=voting_start,
        voting_end=voting_end, results_on=results_on, implementation_on=implementation_on,
        votes_per_voter=votes_per_voter, voting_identity_level=IdentityLevel(voting_identity_level),
        reviewers_per_proposal=reviewers_per_proposal,
        disagreement_threshold=Decimal(str(disagreement_threshold)),
        published_at=_now(now) if publish else None,
    )
    _validate_call(call)
    specs = _criteria_specs(criteria)
    if Call.objects.filter(slug=call.slug).exists():
        raise CallInvalid(format_lazy(_("識別子「{slug}」はすでに使われています。"), slug=call.slug),
                          code="slug_taken", field="slug")
    call.save()
    prefix = (receipt_prefix or f"P{call.pk}").upper()
    if Call.objects.filter(receipt_prefix=prefix).exclude(pk=call.pk).exists():
        raise CallInvalid(format_lazy(_("受付番号の接頭辞「{prefix}」はすでに使われています。"), prefix=prefix),
                          code="prefix_taken", field="receipt_prefix")
    call.receipt_prefix = prefix
    call.save(update_fields=["receipt_prefix"])
    RubricCriterion.objects.bulk_create([
        RubricCriterion(call=call, name=s.name.strip(), description=s.description, weight=s.weight,
                        scale_max=s.scale_max, order=i)
        for i, s in enumerate(specs)
    ])
    changes = audit.diff({}, audit.snapshot(call, CALL_FIELDS + ["slug", "receipt_prefix", "department_id"]))
    changes["criteria"] = [f"{s.name}×{s.weight}/{s.scale_max}" for s in specs]
    audit.record(actor=actor, action=actions.CALL_CREATE, obj=call, changes=changes)
    return call


@transaction.atomic
def call_update(*, actor: Any, call: Call, criteria: Iterable[CriterionSpec | Sequence[Any]] | None = None,
                **fields: Any) -> Call:
    """Change a call's settings; the rubric only until the first score is given."""
    unknown = set(fields) - set(CALL_FIELDS)
    if unknown:
        raise TypeError(f"unknown call fields: {sorted(unknown)}")
    call = Call.objects.select_for_update().get(pk=call.pk)
    before = audit.snapshot(call, CALL_FIELDS)
    for name, value in fields.items():
        setattr(call, name, value)
    _validate_call(call)
    if call.proposals.filter(status=Proposal.Status.SUBMITTED).exists() and (
        str(before["voting_identity_level"]) != str(call.voting_identity_level)
        and Participation.objects.filter(call=call).exists()
    ):
        raise CallInvalid(_("投票が始まった後は、投票に必要な本人確認を変更できません。"), code="identity_level_locked",
                          field="voting_identity_level")
    call.save()
    changes = audit.diff(before, audit.snapshot(call, CALL_FIELDS))
    if criteria is not None:
        specs = _criteria_specs(criteria)
        if Score.objects.filter(criterion__call=call).exists():
            raise CallInvalid(_("採点が始まっているため、審査項目は変更できません。"), code="criteria_locked")
        old = [f"{c.name}×{c.weight}/{c.scale_max}" for c in call.criteria.all()]
        call.criteria.all().delete()
        RubricCriterion.objects.bulk_create([
            RubricCriterion(call=call, name=s.name.strip(), description=s.description, weight=s.weight,
                            scale_max=s.scale_max, order=i)
            for i, s in enumerate(specs)
        ])
        new = [f"{s.name}×{s.weight}/{s.scale_max}" for s in specs]
        if old != new:
            changes["criteria"] = [old, new]
    audit.record(actor=actor, action=actions.CALL_UPDATE, obj=call, changes=changes)
    return call


# --- Proposals -------------------------------------------------------------------------------------


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
        changes = audit.diff(before, audit.snapshot(proposal, TEXT_FIELDS))
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
    actor: Any,
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


@transaction.atomic
def proposal_hide(*, actor: Any, proposal: Proposal, reason: str) -> Proposal:
    """Moderation: withdraw a proposal from public view (and from voting) with a stated reason."""
    if not reason.strip():
        raise ProposalsError(_("非公開にする理由を入力してください。"), code="reason_missing", field="reason")
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    before = audit.snapshot(proposal, ["hidden_at", "hidden_reason"])
    proposal.hidden_at = timezone.now()
    proposal.hidden_reason = reason.strip()[:REASON_MAX]
    proposal.save(update_fields=["hidden_at", "hidden_reason", "updated_at"])
    audit.record(actor=actor, action=actions.PROPOSAL_HIDE, obj=proposal,
                 changes=audit.diff(before, audit.snapshot(proposal, ["hidden_at", "hidden_reason"])))
    return proposal


@transaction.atomic
def proposal_unhide(*, actor: Any, proposal: Proposal, reason: str) -> Proposal:
    """Undo a moderation decision (the reason is kept in the audit log)."""
    if not reason.strip():
        raise ProposalsError(_("再公開する理由を入力してください。"), code="reason_missing", field="reason")
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    before = audit.snapshot(proposal, ["hidden_at", "hidden_reason"])
    proposal.hidden_at = None
    proposal.hidden_reason = ""
    proposal.save(update_fields=["hidden_at", "hidden_reason", "updated_at"])
    changes = audit.diff(before, audit.snapshot(proposal, ["hidden_at", "hidden_reason"]))
    changes["reason"] = reason.strip()
    audit.record(actor=actor, action=actions.PROPOSAL_UNHIDE, obj=proposal, changes=changes)
    return proposal


# --- Screening -------------------------------------------------------------------------------------


@transaction.atomic
def reviewer_add(*, actor: Any, call: Call, user: User) -> Reviewer:
    """Put a staff member (or an external judge's staff-kind account) on the call's panel."""
    if not user.is_staff_member:
        raise ScreeningRefused(_("審査員には職員のアカウントを指定してください。"), code="not_staff", field="email")
    reviewer, created = Reviewer.objects.get_or_create(call=call, user=user)
    if created:
        audit.record(actor=actor, action=actions.REVIEWER_ADD, obj=reviewer,
                     changes={"call": call.slug, "user": user.pk})
    return reviewer


def _screening_open(call: Call, now: datetime | None) -> None:
    if not call.is_screening(now):
        raise ScreeningRefused(
            format_lazy(_("審査期間（{start}〜{end}）ではありません。"),
                        start=_jp(call.submission_end + timedelta(days=1)),
                        end=_jp(call.voting_start - timedelta(days=1))), code="closed")


def _screenable(call: Call) -> Any:
    return call.proposals.filter(status=Proposal.Status.SUBMITTED, hidden_at__isnull=True)


def _assign(call: Call, proposal_ids: Iterable[int] | None = None) -> list[ReviewAssignment]:
    reviewers = list(call.reviewers.order_by("pk").values_list("pk", flat=True))
    proposals = _screenable(call).order_by("receipt_number")
    if proposal_ids is not None:
        proposals = proposals.filter(pk__in=list(proposal_ids))
    proposal_ids = list(proposals.values_list("pk", flat=True))
    existing: dict[int, list[int]] = {}
    excluded: dict[int, list[int]] = {}
    # The load counts every active assignment in the call, not only those being filled.
    for pid, rid, status in ReviewAssignment.objects.filter(proposal__call=call).values_list(
        "proposal_id", "reviewer_id", "status"
    ):
        (excluded if status == ReviewAssignment.Status.CONFLICT else existing).setdefault(pid, []).append(rid)
    pairs = scoring.assign(proposal_ids, reviewers, call.reviewers_per_proposal,
                           existing=existing, excluded=excluded, salt=f"call:{call.pk}")
    # `existing` for proposals outside `proposal_ids` still counts in the load: scoring.assign
    # only iterates the given proposals but loads every existing assignment.
    return ReviewAssignment.objects.bulk_create([
        ReviewAssignment(proposal_id=pid, reviewer_id=rid) for pid, rids in pairs.items() for rid in rids
    ])


@transaction.atomic
def reviews_assign(*, actor: Any, call: Call, now: datetime | None = None) -> list[ReviewAssignment]:
    """Give every proposal `reviewers_per_proposal` reviewers, evenly and deterministically."""
    _screening_open(call, now)
    call = Call.objects.select_for_update().get(pk=call.pk)
    if call.reviewers.count() < call.reviewers_per_proposal:
        raise ScreeningRefused(format_lazy(_("審査員が足りません（1提案あたり{n}名が必要）。"), n=call.reviewers_per_proposal),
                               code="too_few_reviewers")
    created = _assign(call)
    audit.record(actor=actor, action=actions.REVIEWS_ASSIGN, obj=call,
                 changes={"assignments": sorted([a.proposal_id, a.reviewer_id] for a in created)})
    return created


@transaction.atomic
def review_declare_conflict(*, actor: User, assignment: ReviewAssignment, reason: str,
                            now: datetime | None = None) -> ReviewAssignment | None:
    """A reviewer declares a conflict of interest: excluded from this proposal, which is handed to
    the least-loaded other reviewer. Returns the replacement assignment (None if nobody is left)."""
    assignment = ReviewAssignment.objects.select_for_update().select_related("proposal__call", "reviewer").get(
        pk=assignment.pk)
    if assignment.reviewer.user_id != actor.pk:
        raise PermissionDenied
    if not reason.strip():
        raise ScreeningRefused(_("利害関係の内容を入力してください。"), code="reason_missing", field="reason")
    call = assignment.proposal.call
    _screening_open(call, now)
    before = audit.snapshot(assignment, ["status", "conflict_reason"])
    assignment.status = ReviewAssignment.Status.CONFLICT
    assignment.conflict_reason = reason.strip()[:REASON_MAX]
    assignment.comment = ""
    assignment.submitted_at = None
    assignment.save(update_fields=["status", "conflict_reason", "comment", "submitted_at"])
    assignment.scores.all().delete()
    replacement = _assign(call, [assignment.proposal_id])
    changes = audit.diff(before, audit.snapshot(assignment, ["status", "conflict_reason"]))
    changes["reassigned_to"] = [a.reviewer_id for a in replacement]
    audit.record(actor=actor, action=actions.REVIEW_CONFLICT, obj=assignment, changes=changes)
    return replacement[0] if replacement else None


@transaction.atomic
def review_submit(*, actor: User, assignment: ReviewAssignment, scores: Mapping[int, int], comment: str,
                  now: datetime | None = None) -> ReviewAssignment:
    """Score a proposal on every criterion (1..scale_max) with a comment; may be revised until the
    proposal's screening decision."""
    assignment = ReviewAssignment.objects.select_for_update().select_related("proposal__call", "reviewer").get(
        pk=assignment.pk)
    if assignment.reviewer.user_id != actor.pk:
        raise PermissionDenied
    if assignment.status == ReviewAssignment.Status.CONFLICT:
        raise ScreeningRefused(_("利害関係を申告した提案は採点できません。"), code="conflict")
    proposal = assignment.proposal
    _screening_open(proposal.call, now)
    if proposal.screening_decision:
        raise ScreeningRefused(_("この提案は審査結果が決定済みのため、採点を変更できません。"), code="decided")
    criteria = list(proposal.call.criteria.all())
    for c in criteria:
        value = scores.get(c.pk)
        if value is None or not 1 <= int(value) <= c.scale_max:
            raise ScreeningRefused(format_lazy(_("「{name}」は1〜{max}点で採点してください。"), name=c.name, max=c.scale_max),
                                   code="score_range", field=f"c{c.pk}")
    if set(scores) - {c.pk for c in criteria}:
        raise ScreeningRefused(_("この募集にない審査項目が含まれています。"), code="unknown_criterion")
    before = {f"score:{s.criterion_id}": s.value for s in assignment.scores.all()}
    before["comment"] = assignment.comment
    assignment.scores.all().delete()
    Score.objects.bulk_create([Score(assignment=assignment, criterion=c, value=int(scores[c.pk])) for c in criteria])
    assignment.comment = comment.strip()
    assignment.status = ReviewAssignment.Status.SUBMITTED
    assignment.submitted_at = _now(now)
    assignment.save(update_fields=["comment", "status", "submitted_at"])
    after = {f"score:{c.pk}": int(scores[c.pk]) for c in criteria}
    after["comment"] = assignment.comment
    audit.record(actor=actor, action=actions.REVIEW_SUBMIT, obj=assignment, changes=audit.diff(before, after))
    return assignment


@transaction.atomic
def proposal_decide(*, actor: Any, proposal: Proposal, decision: str, reason: str,
                    now: datetime | None = None) -> Proposal:
    """Record the screening decision (投票対象に選定する／しない) with its reason."""
    proposal = Proposal.objects.select_for_update().select_related("call").get(pk=proposal.pk)
    _screening_open(proposal.call, now)
    if decision not in (ScreeningDecision.SHORTLISTED, ScreeningDecision.NOT_SHORTLISTED):
        raise ScreeningRefused(_("審査結果を選んでください。"), code="required", field="decision")
    if not reason.strip():
        raise ScreeningRefused(_("審査結果の理由を入力してください。"), code="reason_missing", field="reason")
    if proposal.status != Proposal.Status.SUBMITTED:
        raise ScreeningRefused(_("受付済みの提案ではありません。"), code="not_submitted")
    if decision == ScreeningDecision.SHORTLISTED and proposal.is_hidden:
        raise ScreeningRefused(_("非公開の提案は投票対象にできません。"), code="hidden", field="decision")
    before = audit.snapshot(proposal, ["screening_decision", "screening_reason"])
    proposal.screening_decision = decision
    proposal.screening_reason = reason.strip()[:REASON_MAX]
    proposal.decided_at = _now(now)
    proposal.save(update_fields=["screening_decision", "screening_reason", "decided_at", "updated_at"])
    audit.record(actor=actor, action=actions.PROPOSAL_DECIDE, obj=proposal,
                 changes=audit.diff(before, audit.snapshot(proposal, ["screening_decision", "screening_reason"])))
    return proposal


# --- Voter verification ------------------------------------------------------------------------


def _normalise(text: str) -> str:
    # hyphens, long-vowel marks, middle dots and commas are typed every which way in kana and addresses
    return fold(text, drop="-‐ー－・,，、.")


def _keyed(purpose: bytes, message: str) -> str:
    secret = (getattr(settings, "HIROBA_BALLOT_KEY", "") or settings.SECRET_KEY).encode()
    key = hmac.new(secret, purpose, hashlib.sha256).digest()
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def identity_key(*, name_kana: str, birth_date: date, address: str) -> str:
    """Who a person is, as a keyed hash: equal for the same name (かな), birth date and address."""
    return _keyed(b"hiroba.proposals.identity/1",
                  f"{_normalise(name_kana)}|{birth_date.isoformat()}|{_normalise(address)}")


@transaction.atomic
def voter_verify(
    *,
    actor: Any,
    display_name: str,
    residency: str,
    method: str = VoterVerification.Method.COUNTER,
    user: User | None = None,
    birth_date: date | None = None,
    name_kana: str = "",
    address: str = "",
    now: datetime | None = None,
) -> VoterVerification:
    """Record that a person's identity was checked (窓口 with an ID document, or an external verifier).

    At the counter the name (かな), birth date and address give an identity key, so one person
    cannot be verified twice — with or without an account. Verifying an account holder whose
    person was already verified without an account links the two.
    """
    if residency not in Relationship.values:
        raise VerificationRefused(_("在住・在勤・在学のいずれかを選んでください。"), code="required", field="residency")
    if user is not None and not user.is_resident:
        raise VerificationRefused(_("区民等のアカウントではありません。"), code="not_resident", field="email")
    clerk = actor if isinstance(actor, User) else None
    key = ""
    if method == VoterVerification.Method.COUNTER:
        if clerk is None:
            raise VerificationRefused(_("窓口での本人確認は職員が記録します。"), code="not_staff")
        if not (name_kana.strip() and birth_date and address.strip()):
            raise VerificationRefused(_("窓口での本人確認には、氏名（かな）・生年月日・住所が必要です。"), code="required")
    if name_kana.strip() and birth_date and address.strip():
        key = identity_key(name_kana=name_kana, birth_date=birth_date, address=address)
    if user is None and not key:
        raise VerificationRefused(_("アカウントか、氏名（かな）・生年月日・住所のいずれかで本人を特定してください。"),
                                  code="required")
    if user is not None and VoterVerification.objects.filter(user=user).exists():
        raise VerificationRefused(_("このアカウントはすでに本人確認済みです。"), code="duplicate", field="email")
    same = VoterVerification.objects.select_for_update().filter(identity_key=key).first() if key else None
    if same is not None:
        if same.user_id is not None or user is None:
            raise VerificationRefused(_("この方はすでに本人確認済みです（同じ方を二重に登録することはできません）。"),
                                      code="duplicate")
        same.user = user
        same.save(update_fields=["user"])
        audit.record(actor=actor, action=actions.VOTER_LINK, obj=same, changes={"user": [None, user.pk]})
        return same
    verification = VoterVerification.objects.create(
        user=user, display_name=display_name.strip()[:100] or (user.display_name if user else ""),
        identity_key=key, residency=residency, birth_date=birth_date, method=method,
        verified_at=_now(now), verified_by=clerk,
    )
    audit.record(actor=actor, action=actions.VOTER_VERIFY, obj=verification,
                 changes={"method": method, "residency": residency, "user": user.pk if user else None,
                          "birth_date_recorded": birth_date is not None})
    return verification


@transaction.atomic
def voter_verification_revoke(*, actor: Any, verification: VoterVerification, reason: str) -> VoterVerification:
    """Withdraw a verification (a mistake, a forged document). Votes already cast stay counted."""
    if not reason.strip():
        raise VerificationRefused(_("取消の理由を入力してください。"), code="reason_missing", field="reason")
    verification.revoked_at = timezone.now()
    verification.save(update_fields=["revoked_at"])
    audit.record(actor=actor, action=actions.VOTER_REVOKE, obj=verification, changes={"reason": reason.strip()})
    return verification


# --- Voting ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Eligibility:
    ok: bool
    reason: str | Promise = ""  # a lazy translated message
    verification: VoterVerification | None = None


def _person_eligibility(call: Call, verification: VoterVerification | None, now: datetime | None) -> Eligibility:
    if verification is None or not verification.is_valid:
        if call.voting_identity_level == IdentityLevel.VERIFIED:
            return Eligibility(False, _("この募集の投票には本人確認が必要です。区役所の窓口で本人確認を受けてください。"))
        return Eligibility(True, verification=None)
    if verification.residency not in call.eligible_residencies:
        with translation.override("ja"):  # the reason is a Japanese sentence
            allowed = "・".join(call.residency_labels())
        return Eligibility(False, format_lazy(_("この募集に投票できるのは{allowed}の方です。"), allowed=allowed), verification)
    if call.min_age is not None or call.max_age is not None:
        age = verification.age_on(timezone.localdate(_now(now)))
        if age is None:
            return Eligibility(False, _("生年月日が確認できないため、年齢の条件を満たすか確かめられません。"), verification)
        if call.min_age is not None and age < call.min_age:
            return Eligibility(False, format_lazy(_("この募集に投票できるのは{age}歳以上の方です。"), age=call.min_age),
                               verification)
        if call.max_age is not None and age > call.max_age:
            return Eligibility(False, format_lazy(_("この募集に投票できるのは{age}歳以下の方です。"), age=call.max_age),
                               verification)
    return Eligibility(True, verification=verification)


def voter_eligibility(*, user: Any, call: Call, now: datetime | None = None) -> Eligibility:
    """May this account vote online in this call? With the reason when not.

    One query in the common case (a verified person): the verification, with whether the account's
    e-mail address is confirmed.
    """
    if not getattr(user, "is_authenticated", False):
        return Eligibility(False, _("投票するにはログインしてください。"))
    if not user.is_resident:
        return Eligibility(False, _("投票は区民等のアカウントで行ってください（職員のアカウントでは投票できません）。"))
    email_ok = Exists(EmailAddress.objects.filter(user_id=OuterRef("user_id"), verified=True))
    verification = (VoterVerification.objects.filter(user=user, revoked_at__isnull=True)
                    .annotate(email_ok=email_ok).first())
    needs_email = IdentityLevel.rank(call.voting_identity_level) >= IdentityLevel.rank(IdentityLevel.EMAIL)
    if needs_email:
        confirmed = verification.email_ok if verification is not None else \
            EmailAddress.objects.filter(user=user, verified=True).exists()
        if not confirmed:
            return Eligibility(False, _("メールアドレスの確認が済んでいません。確認メールのリンクを開いてください。"))
    return _person_eligibility(call, verification, now)


def ballot_token(call_id: int, participation_id: int) -> str:
    """The voter's pseudonym on ballot rows: an HMAC with a key that is not in the database."""
    return _keyed(b"hiroba.proposals.ballot-token/1", f"{call_id}:{participation_id}")


def _voting_open(call: Call, now: datetime | None) -> None:
    if not call.is_voting_open(now):
        if timezone.localdate(_now(now)) > call.voting_end:
            raise VoteRefused(format_lazy(_("投票は{end}に締め切られました。投票の内容は変更されていません。"), end=_jp(call.voting_end)),
                              code="closed")
        raise VoteRefused(format_lazy(_("投票期間（{start}〜{end}）ではありません。"), start=_jp(call.voting_start),
                                      end=_jp(call.voting_end)),
                          code="closed")
    # Results are published only after the close, and publication locks every participation row
    # first, so the date check is enough here (no query on the hot path).


def _check_targets(call: Call, proposal_ids: Sequence[int]) -> None:
    if len(set(proposal_ids)) != len(proposal_ids):
        raise VoteRefused(_("1つの提案に投票できるのは1票までです。"), code="duplicate", field="proposals")
    if len(proposal_ids) > call.votes_per_voter:
        raise VoteRefused(format_lazy(_("投票できるのは1人{max}票までです（{chosen}件選ばれています）。"),
                                      max=call.votes_per_voter, chosen=len(proposal_ids)),
                          code="limit", field="proposals")
    if not proposal_ids:
        return
    valid = set(Proposal.objects.filter(
        call=call, pk__in=proposal_ids, status=Proposal.Status.SUBMITTED, hidden_at__isnull=True,
        screening_decision=ScreeningDecision.SHORTLISTED,
    ).values_list("pk", flat=True))
    if valid != set(proposal_ids):
        raise VoteRefused(_("投票の対象ではない提案（審査で選ばれていない、または非公開の提案）が含まれています。"),
                          code="not_shortlisted")


def _online_participation(call: Call, user: User, verification: VoterVerification | None) -> Participation:
    """The voter's participation row, created if need be, locked (SELECT … FOR UPDATE)."""
    lookup = Q(user=user) | Q(verification=verification) if verification else Q(user=user)
    part = Participation.objects.select_for_update().filter(lookup, call=call).first()
    if part is None:
        try:
            with transaction.atomic():
                # Our own new row: locked by this transaction until it commits.
                part = Participation.objects.create(call=call, user=user, verification=verification)
        except IntegrityError:
            # A concurrent first vote created it: take that row (now committed) and lock it.
            part = Participation.objects.select_for_update().filter(lookup, call=call).get()
    if part.channel == Participation.Channel.PAPER:
        raise VoteRefused(_("紙の投票用紙で投票済みのため、オンラインでは投票できません。"), code="paper")
    if verification is not None and part.verification_id is None:
        part.verification = verification
        part.save(update_fields=["verification"])
    return part


def _claim(part: Participation, idempotency_key: str | None) -> None:
    if not idempotency_key:
        return
    try:
        with transaction.atomic():
            VoteRequest.objects.create(participation=part, key=str(idempotency_key)[:64])
    except IntegrityError:
        raise AlreadyProcessed(
            _("この送信はすでに受け付けています（二重送信のため、投票の内容は変わっていません）。")) from None


def _prepare_online(*, voter: Any, call: Call, now: datetime | None) -> tuple[Participation, str]:
    eligibility = voter_eligibility(user=voter, call=call, now=now)
    if not eligibility.ok:
        raise VoteRefused(eligibility.reason, code="ineligible")
    part = _online_participation(call, voter, eligibility.verification)
    return part, ballot_token(call.pk, part.pk)


@transaction.atomic
def ballot_replace(*, voter: Any, call: Call, proposal_ids: Sequence[int], idempotency_key: str | None = None,
                   now: datetime | None = None) -> Participation:
    """Set the voter's choices to exactly `proposal_ids` (vote, change or withdraw), until the close."""
    proposal_ids = [int(p) for p in proposal_ids]
    _voting_open(call, now)
    _check_targets(call, proposal_ids)
    part, token = _prepare_online(voter=voter, call=call, now=now)
    _claim(part, idempotency_key)
    if part.ballot_count:
        Ballot.objects.filter(call=call, token=token).delete()
    Ballot.objects.bulk_create([Ballot(call=call, proposal_id=pid, token=token) for pid in sorted(proposal_ids)])
    Participation.objects.filter(pk=part.pk).update(ballot_count=len(proposal_ids))
    part.ballot_count = len(proposal_ids)
    return part


@transaction.atomic
def vote_cast(*, voter: Any, call: Call, proposal: Proposal | int, idempotency_key: str | None = None,
              now: datetime | None = None) -> Participation:
    """Add one vote for one proposal. Exact under concurrency: the participation row is locked and
    the count rises only through `UPDATE … WHERE ballot_count < limit`; the unique (call, token,
    proposal) constraint refuses a second vote for the same proposal."""
    pid = proposal if isinstance(proposal, int) else proposal.pk
    _voting_open(call, now)
    _check_targets(call, [pid])
    part, token = _prepare_online(voter=voter, call=call, now=now)
    _claim(part, idempotency_key)
    raised = Participation.objects.filter(pk=part.pk, ballot_count__lt=call.votes_per_voter).update(
        ballot_count=F("ballot_count") + 1)
    if not raised:
        raise VoteRefused(format_lazy(_("投票できるのは1人{max}票までです。票を変更するには、先にほかの提案への投票を取り消してください。"),
                                      max=call.votes_per_voter),
                          code="limit")
    # One round trip, no savepoint: the unique (call, token, proposal) constraint decides.
    table = Ballot._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (id, call_id, proposal_id, token) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (call_id, token, proposal_id) DO NOTHING RETURNING id",
            [uuid.uuid4().hex if connection.vendor == "sqlite" else uuid.uuid4(), call.pk, pid, token])
        inserted = cursor.fetchone() is not None
    if not inserted:
        raise VoteRefused(_("この提案にはすでに投票しています（1つの提案には1票まで）。"), code="duplicate")
    part.ballot_count += 1  # read under the row lock, so exact
    return part


@transaction.atomic
def vote_withdraw(*, voter: Any, call: Call, proposal: Proposal | int, idempotency_key: str | None = None,
                  now: datetime | None = None) -> Participation:
    """Take back one vote until the close."""
    pid = proposal if isinstance(proposal, int) else proposal.pk
    _voting_open(call, now)
    part, token = _prepare_online(voter=voter, call=call, now=now)
    _claim(part, idempotency_key)
    deleted, _by_model = Ballot.objects.filter(call=call, token=token, proposal_id=pid).delete()
    if not deleted:
        raise VoteRefused(_("この提案には投票していません。"), code="not_voted")
    Participation.objects.filter(pk=part.pk).update(ballot_count=F("ballot_count") - 1)
    part.ballot_count -= 1
    return part


def my_choices(*, voter: Any, call: Call) -> set[int]:
    """The proposals this voter has voted for (only the voter's own key can find them)."""
    part = Participation.objects.filter(call=call, user=voter).first() if getattr(voter, "pk", None) else None
    if part is None:
        return set()
    return set(Ballot.objects.filter(call=call, token=ballot_token(call.pk, part.pk))
               .values_list("proposal_id", flat=True))


@transaction.atomic
def paper_ballot_enter(*, actor: Any, call: Call, verification: VoterVerification, proposal_ids: Sequence[int],
                       received_on: date, now: datetime | None = None) -> Participation:
    """Enter a paper ballot collected at a counter, tied to a verified person: that person can then
    no longer vote online (and somebody who voted online cannot hand in paper)."""
    proposal_ids = [int(p) for p in proposal_ids]
    if CallResult.objects.filter(call=call).exists():
        raise VoteRefused(_("結果が公表されたため、紙の投票を入力できません。"), code="closed")
    if not call.voting_start <= received_on <= call.voting_end:
        raise VoteRefused(_("投票期間内に受け付けた投票用紙ではありません。"), code="closed", field="received_on")
    if received_on > timezone.localdate(_now(now)):
        raise VoteRefused(_("受付日が未来の日付です。"), code="future_date", field="received_on")
    if not proposal_ids:
        raise VoteRefused(_("投票先が選ばれていません（白票は入力しません）。"), code="required", field="proposals")
    _check_targets(call, proposal_ids)
    verification = VoterVerification.objects.select_for_update().get(pk=verification.pk)
    eligibility = _person_eligibility(call, verification, now)
    if not verification.is_valid:
        raise VoteRefused(_("本人確認が取り消されています。"), code="ineligible")
    if not eligibility.ok:
        raise VoteRefused(eligibility.reason, code="ineligible")
    lookup = Q(verification=verification) | (Q(user_id=verification.user_id) if verification.user_id else Q(pk=None))
    if Participation.objects.select_for_update().filter(lookup, call=call).exists():
        raise VoteRefused(_("この方はすでに投票しています（オンラインまたは紙）。二重に投票することはできません。"),
                          code="already_voted")
    clerk = actor if isinstance(actor, User) else None
    try:
        with transaction.atomic():
            part = Participation.objects.create(
                call=call, user_id=verification.user_id, verification=verification,
                channel=Participation.Channel.PAPER, ballot_count=len(proposal_ids), entered_by=clerk)
    except IntegrityError:
        raise VoteRefused(_("この方はすでに投票しています（オンラインまたは紙）。"), code="already_voted") from None
    token = ballot_token(call.pk, part.pk)
    Ballot.objects.bulk_create([Ballot(call=call, proposal_id=pid, token=token) for pid in sorted(proposal_ids)])
    # The audit entry says who entered a paper ballot for whom, and how many votes — not for what.
    audit.record(actor=actor, action=actions.PAPER_BALLOT_ENTER, obj=part,
                 changes={"verification": verification.pk, "votes": len(proposal_ids),
                          "received_on": received_on.isoformat()})
    return part


# --- Tally, results ----------------------------------------------------------------------------------


def tally(call: Call) -> dict[int, int]:
    """Votes per proposal, counted from the stored ballots (one GROUP BY on the tally index)."""
    return dict(Ballot.objects.filter(call_id=call.pk).order_by().values_list("proposal_id")
                .annotate(n=Count("*")).values_list("proposal_id", "n"))


def anonymised_ballots(call: Call) -> list[dict[str, Any]]:
    """The ballot set as published: one entry per voter's ballot, choices as 受付番号."""
    receipts = dict(call.proposals.exclude(receipt_number=None).values_list("pk", "receipt_number"))
    grouped: dict[str, list[str]] = {}
    for token, pid in Ballot.objects.filter(call=call).order_by().values_list("token", "proposal_id").iterator(
            chunk_size=5000):
        grouped.setdefault(token, []).append(receipts[pid])
    return [{"ballot": token, "choices": sorted(choices)} for token, choices in sorted(grouped.items())]


def _seal(call: Call) -> None:
    """Replace every token by SHA-256(salt ‖ token) with a salt that is then thrown away: after
    publication not even the holder of the ballot key can tell whose ballot is whose."""
    salt = secrets.token_hex(32)
    table = Ballot._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"UPDATE {table} SET token = encode(sha256(convert_to(%s || token, 'UTF8')), 'hex') "
                "WHERE call_id = %s", [salt, call.pk])
        else:
            connection.ensure_connection()
            connection.connection.create_function(
                "hiroba_seal", 2, lambda s, t: hashlib.sha256((s + t).encode()).hexdigest(), deterministic=True)
            cursor.execute(f"UPDATE {table} SET token = hiroba_seal(%s, token) WHERE call_id = %s", [salt, call.pk])


@transaction.atomic
def results_publish(*, actor: Any, call: Call, now: datetime | None = None) -> CallResult:
    """After the close: seal the ballots, count them, publish counts, tally and the digest."""
    call = Call.objects.select_for_update().get(pk=call.pk)
    if CallResult.objects.filter(call=call).exists():
        raise ProposalsError(_("結果はすでに公表されています。"), code="published")
    if timezone.localdate(_now(now)) <= call.voting_end:
        raise ProposalsError(_("投票期間が終わるまで結果は公表できません。"), code="too_early")
    # Wait for any vote still in flight on this call, and hold new ones off.
    list(Participation.objects.select_for_update().filter(call=call).values_list("pk", flat=True))
    _seal(call)
    counts = tally(call)
    agg = Participation.objects.filter(call=call, ballot_count__gt=0).aggregate(
        voters=Count("pk"), votes=Sum("ballot_count"),
        online=Count("pk", filter=Q(channel=Participation.Channel.ONLINE)),
        paper=Count("pk", filter=Q(channel=Participation.Channel.PAPER)))
    if (agg["votes"] or 0) != sum(counts.values()):
        raise ProposalsError(_("投票者の票数と保存された票の数が一致しません。集計を中止しました。"), code="tally_mismatch")
    ballot_set = anonymised_ballots(call)
    if len(ballot_set) != agg["voters"]:
        raise ProposalsError(_("投票者数と投票の数が一致しません。集計を中止しました。"), code="tally_mismatch")
    receipts = dict(call.proposals.exclude(receipt_number=None).values_list("pk", "receipt_number"))
    result = CallResult.objects.create(
        call=call, published_at=_now(now), published_by=actor if isinstance(actor, User) else None,
        applications=call.proposals.filter(status=Proposal.Status.SUBMITTED).count(),
        voters=agg["voters"], votes=agg["votes"] or 0, online_voters=agg["online"], paper_voters=agg["paper"],
        tally={receipts[pid]: n for pid, n in sorted(counts.items(), key=lambda kv: receipts[kv[0]])},
        digest=ballot_math.digest(ballot_set),
    )
    audit.record(actor=actor, action=actions.RESULTS_PUBLISH, obj=call,
                 changes={"applications": result.applications, "voters": result.voters, "votes": result.votes,
                          "digest": result.digest})
    return result


# --- Adoption and follow-up ----------------------------------------------------------------------


@transaction.atomic
def proposal_adopt(*, actor: Any, proposal: Proposal, reason: str, department: Department | None = None,
                   budget_step: str = "", summary: str = "", now: datetime | None = None) -> FollowUp:
    """Adopt a voted proposal for 事業化 and open its public follow-up record."""
    proposal = Proposal.objects.select_for_update().select_related("call").get(pk=proposal.pk)
    if not CallResult.objects.filter(call=proposal.call).exists():
        raise ProposalsError(_("結果の公表後に採用を決定できます。"), code="not_published")
    if not proposal.is_shortlisted or proposal.is_hidden:
        raise ProposalsError(_("投票対象に選ばれた公開中の提案だけを採用できます。"), code="not_shortlisted")
    if proposal.adopted_at is not None:
        raise ProposalsError(_("この提案はすでに採用されています。"), code="adopted")
    if not reason.strip():
        raise ProposalsError(_("採用の理由を入力してください。"), code="reason_missing", field="reason")
    proposal.adopted_at = _now(now)
    proposal.adoption_reason = reason.strip()[:REASON_MAX]
    proposal.save(update_fields=["adopted_at", "adoption_reason", "updated_at"])
    followup = FollowUp.objects.create(proposal=proposal, department=department or proposal.call.department,
                                       budget_step=budget_step.strip(), summary=summary.strip(),
                                       updated_at=_now(now))
    audit.record(actor=actor, action=actions.PROPOSAL_ADOPT, obj=proposal,
                 changes={"reason": proposal.adoption_reason, "department": followup.department_id,
                          "budget_step": followup.budget_step})
    return followup


FOLLOWUP_FIELDS = ["status", "budget_step", "summary", "department_id"]


@transaction.atomic
def followup_update(*, actor: Any, followup: FollowUp, status: str, budget_step: str, summary: str,
                    now: datetime | None = None) -> FollowUp:
    """Report progress on an adopted proposal (状況, 予算の段階, 内容)."""
    if status not in FollowUp.Status.values:
        raise ProposalsError(_("状況を選んでください。"), code="required", field="status")
    followup = FollowUp.objects.select_for_update().get(pk=followup.pk)
    before = audit.snapshot(followup, FOLLOWUP_FIELDS)
    followup.status, followup.budget_step, followup.summary = status, budget_step.strip(), summary.strip()
    followup.updated_at = _now(now)
    followup.save()
    audit.record(actor=actor, action=actions.FOLLOWUP_UPDATE, obj=followup,
                 changes=audit.diff(before, audit.snapshot(followup, FOLLOWUP_FIELDS)))
    return followup


@transaction.atomic
def milestone_add(*, actor: Any, followup: FollowUp, title: str, due_on: date, done_on: date | None = None) -> Milestone:
    if not title.strip():
        raise ProposalsError(_("節目の内容を入力してください。"), code="required", field="title")
    milestone = Milestone.objects.create(followup=followup, title=title.strip()[:200], due_on=due_on, done_on=done_on)
    FollowUp.objects.filter(pk=followup.pk).update(updated_at=timezone.now())
    audit.record(actor=actor, action=actions.MILESTONE_ADD, obj=milestone,
                 changes={"followup": followup.pk, "title": milestone.title, "due_on": due_on.isoformat(),
                          "done_on": done_on.isoformat() if done_on else None})
    return milestone


@transaction.atomic
def milestone_complete(*, actor: Any, milestone: Milestone, done_on: date) -> Milestone:
    before = audit.snapshot(milestone, ["done_on"])
    milestone.done_on = done_on
    milestone.save(update_fields=["done_on"])
    FollowUp.objects.filter(pk=milestone.followup_id).update(updated_at=timezone.now())
    audit.record(actor=actor, action=actions.MILESTONE_COMPLETE, obj=milestone,
                 changes=audit.diff(before, audit.snapshot(milestone, ["done_on"])))
    return milestone

