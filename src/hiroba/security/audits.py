"""情報セキュリティ監査: audits with their evaluations, corrective actions to closure."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hiroba.core import audit
from hiroba.core.actors import Actor, ActorLike
from hiroba.core.dates import fiscal_year_of
from hiroba.core.errors import NotAllowed, ServiceError
from hiroba.core.models import Department
from hiroba.security import audit_actions as actions
from hiroba.security.models import Audit, AuditEvaluation, Contractor, CorrectiveAction, System
from hiroba.security.services import who

MAX_EVIDENCE_BYTES = 20 * 1024 * 1024


def _require_office(actor: ActorLike) -> None:
    a = Actor.of(actor)
    if a.user is not None and not a.user.has_perm("security.manage_register"):
        raise NotAllowed(_("監査の登録は情報システム課（CISO事務局）が行います。"))


@transaction.atomic
def audit_create(
    *, actor: ActorLike, kind: str, theme: str, method: str, starts_on: date, ends_on: date, department: Department,
    auditor: str = "", lead: Any = None, scope_note: str = "", departments: Iterable[Department] = (),
    systems: Iterable[System] = (), contractors: Iterable[Contractor] = (),
    good_points: Sequence[str] = (), issues: Sequence[str] = (),
) -> Audit:
    """Record an audit with its scope and its evaluations (良い点・課題) as the report words them."""
    _require_office(actor)
    if kind not in Audit.Kind.values:
        raise ServiceError(_("監査の種類が正しくありません。"), code="kind", field="kind")
    if not theme.strip():
        raise ServiceError(_("監査テーマを入力してください。"), code="theme_required", field="theme")
    if ends_on < starts_on:
        raise ServiceError(_("実施終了日は実施開始日以降にしてください。"), code="period_order", field="ends_on")
    record = Audit.objects.create(
        fiscal_year=fiscal_year_of(starts_on), kind=kind, theme=theme.strip(), method=method.strip(),
        starts_on=starts_on, ends_on=ends_on, department=department, auditor=auditor.strip(), lead=lead,
        scope_note=scope_note.strip(),
    )
    record.departments.set(list(departments))
    record.systems.set(list(systems))
    record.contractors.set(list(contractors))
    rows = [AuditEvaluation(audit=record, kind=AuditEvaluation.Kind.GOOD, text=t.strip(), number=i)
            for i, t in enumerate((t for t in good_points if t.strip()), start=1)]
    rows += [AuditEvaluation(audit=record, kind=AuditEvaluation.Kind.ISSUE, text=t.strip(), number=i)
             for i, t in enumerate((t for t in issues if t.strip()), start=1)]
    AuditEvaluation.objects.bulk_create(rows)
    audit.record(actor=who(actor), action=actions.AUDIT_CREATE, obj=record, changes={
        "kind": kind, "theme": record.theme, "period": [starts_on, ends_on], "good_points": len(good_points),
        "issues": len(issues), "departments": [d.code for d in departments],
    })
    return record


@transaction.atomic
def action_create(*, actor: ActorLike, evaluation: AuditEvaluation, description: str, department: Department,
                  due_on: date, owner: Any = None) -> CorrectiveAction:
    """A corrective action for an issue (課題), owned by a department, due on a day."""
    _require_office(actor)
    if evaluation.kind != AuditEvaluation.Kind.ISSUE:
        raise ServiceError(_("是正措置は課題に対して登録します。"), code="not_an_issue")
    if not description.strip():
        raise ServiceError(_("是正措置の内容を入力してください。"), code="description_required", field="description")
    action = CorrectiveAction.objects.create(evaluation=evaluation, description=description.strip(),
                                             department=department, due_on=due_on, owner=owner)
    audit.record(actor=who(actor), action=actions.ACTION_CREATE, obj=action,
                 changes={"audit": evaluation.audit_id, "department": department.code, "due_on": due_on})
    return action


@transaction.atomic
def action_submit(*, actor: ActorLike, action: CorrectiveAction, note: str, evidence: UploadedFile | None = None
                  ) -> CorrectiveAction:
    """The owner department reports the action done, with what it did and its evidence."""
    action = CorrectiveAction.objects.select_for_update().select_related("evaluation__audit").get(pk=action.pk)
    if not note.strip():
        raise ServiceError(_("完了報告（実施した内容）を入力してください。"), code="note_required", field="note")
    if evidence is not None and (evidence.size or 0) > MAX_EVIDENCE_BYTES:
        raise ServiceError(_("証跡ファイルは20MBまでです。"), code="evidence_too_large", field="evidence")
    before, after = CorrectiveAction.workflow.apply(action, "submit", actor=actor)
    action.evidence_note = note.strip()
    action.submitted_at = timezone.now()
    if evidence is not None:
        action.evidence.save(evidence.name or "evidence", evidence, save=False)
    action.save()
    audit.record(actor=who(actor), action=actions.ACTION_TRANSITION, obj=action,
                 changes={"state": [before, after], "note": action.evidence_note, "evidence": action.evidence.name})
    return action


@transaction.atomic
def action_decide(*, actor: ActorLike, action: CorrectiveAction, close: bool, reason: str = "") -> CorrectiveAction:
    """The audit's lead (or the CISO office's approver) confirms the action — or sends it back."""
    action = CorrectiveAction.objects.select_for_update().select_related("evaluation__audit").get(pk=action.pk)
    before, after = CorrectiveAction.workflow.apply(action, "close" if close else "send_back", actor=actor,
                                                    reason=reason)
    if close:
        action.closed_at = timezone.now()
        action.closed_by = Actor.of(actor).user
    action.save()
    audit.record(actor=who(actor), action=actions.ACTION_TRANSITION, obj=action,
                 changes={"state": [before, after], "reason": reason.strip()})
    return action
