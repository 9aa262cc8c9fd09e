"""決裁: the approval route and the rounds that approve the published table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from hiroba.accounts import permissions
from hiroba.accounts.models import Role
from hiroba.consultations import audit_actions, staff_mail
from hiroba.consultations.models import ApprovalDecision, ApprovalRound, ApprovalStep, Case
from hiroba.consultations.services._common import _pending_masks, latest_published
from hiroba.consultations.services.errors import ConsultationError
from hiroba.core import audit, pagecache
from hiroba.core.actors import Actor, ActorLike
from hiroba.core.models import Department

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
    if not getattr(user, "is_authenticated", False):
        return False
    if step.get("user_ids"):
        return user.pk in step["user_ids"]
    return permissions.has_role(user, step["department_id"], Role(step["role"]))


@transaction.atomic
def approval_route_set(*, actor: ActorLike, case: Case, steps: Sequence[RouteStep]) -> list[ApprovalStep]:
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


def _unitemised(case: Case) -> list[str]:
    """Counted submissions not yet cut into items: at approval every opinion must be in the table."""
    return list(case.submissions.counted().filter(items__isnull=True).order_by("receipt_seq")
                .values_list("receipt_number", flat=True))


@transaction.atomic
def approval_request(*, actor: ActorLike, case: Case, comment: str = "", correction_note: str = "") -> ApprovalRound:
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
        table=exports.approved_part(pub), correction_note=correction_note, requested_by=Actor.of(actor).account(),
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
def approval_decide(*, actor: ActorLike, round_: ApprovalRound, approve: bool, comment: str = "") -> ApprovalRound:
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
    user = Actor.of(actor).account()
    if user is not None:
        if round_.requested_by_id == user.pk:
            raise ConsultationError(_("起案した職員は、自分の起案を決裁できません。"), code="own_request")
        if not may_decide(user, step):
            raise ConsultationError(format_lazy(_("「{step}」の段階を決裁する権限がありません。"), step=step["label"]),
                                    code="step_not_allowed")
        if round_.decisions.filter(decided_by=user).exists():
            raise ConsultationError(_("同じ職員が一つの決裁の複数の段階を決裁することはできません。"), code="same_approver")
    case = round_.case
    if approve and exports.digest(exports.build(case)) != round_.digest:
        raise ConsultationError(_("決裁に回した後に公表する内容が変わっています。差し戻して、決裁をやり直してください。"), code="changed_since_request")
    ApprovalDecision.objects.create(
        round=round_, step=round_.step, label=step["label"],
        decision=ApprovalDecision.Decision.APPROVE if approve else ApprovalDecision.Decision.RETURN,
        decided_by=user, comment=comment.strip(),
    )
    final = not approve or round_.step + 1 >= len(round_.route)
    if final:
        round_.state = ApprovalRound.State.APPROVED if approve else ApprovalRound.State.RETURNED
        round_.decided_by, round_.decided_at, round_.comment = user, timezone.now(), comment.strip()
    else:
        round_.step += 1
    round_.save()
    if not approve:
        case.state = Case.State.ANSWERING
        case.save(update_fields=["state", "updated_at"])
    pagecache.invalidate("consultations")
    audit.record(actor=actor, action=audit_actions.APPROVAL_APPROVE if approve else audit_actions.APPROVAL_RETURN, obj=case,
                 changes={"round": round_.number, "step": step["label"], "comment": comment.strip(),
                          "final": final})
    if not approve:
        staff_mail.approval_returned(round_, step["label"], comment.strip())
    elif not final:
        staff_mail.approval_waiting(round_)
    return round_


@transaction.atomic
def approval_reopen(*, actor: ActorLike, case: Case, reason: str) -> Case:
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
    pagecache.invalidate("consultations")
    audit.record(actor=actor, action=audit_actions.APPROVAL_REOPEN, obj=case,
                 changes={"state": [before, "answering"], "reason": reason.strip(),
                          **({"correction": True} if before == Case.State.PUBLISHED else {})})
    return case
