"""Writes to the systems register and the findings: registering sites, importing diagnoses (see
`importing`), the finding workflow, risk acceptance and its expiry.

Audits, incidents, training, policy and reminders have their own modules (`audits`,
`incidents`, `training`, `policy`, `reminders`); every write is a function here or there.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from hiroba.accounts import permissions
from hiroba.accounts.models import Role
from hiroba.core import audit
from hiroba.core.actors import Actor, ActorLike
from hiroba.core.errors import NotAllowed, ServiceError
from hiroba.core.models import Department
from hiroba.security import audit_actions as actions
from hiroba.security import parsers
from hiroba.security.importing import ImportRefused, ImportResult, import_path, round_import  # noqa: F401
from hiroba.security.models import ACTIVE_STATUSES, Contractor, Finding, FindingStatus, RiskAcceptance, System


def who(actor: ActorLike) -> Any:
    """What `audit.record` takes for an actor today: the account, or the label."""
    a = Actor.of(actor)
    return a.user or a.audit_label


def department_by_name(name: str) -> Department:
    """A department by its name (情報システム課), its full name, or its code."""
    name = name.strip()
    matches = list(Department.objects.filter(Q(name=name) | Q(code=name)))
    if not matches:
        matches = [d for d in Department.objects.all() if d.full_name == name]
    if len(matches) != 1:
        raise ServiceError(format_lazy(_("所属「{name}」が見つかりません。") if not matches else
                                       _("所属「{name}」が複数あります。所属コードで指定してください。"), name=name),
                           code="department_unknown", field="department")
    return matches[0]


# --- systems --------------------------------------------------------------------------------

@transaction.atomic
def contractor_create(*, actor: ActorLike, name: str, service: str = "", contact_email: str = "") -> Contractor:
    """Register a 委託先."""
    name = name.strip()
    if not name:
        raise ServiceError(_("事業者名を入力してください。"), code="name_required", field="name")
    if Contractor.objects.filter(name=name).exists():
        raise ServiceError(_("同じ名前の委託先が登録されています。"), code="contractor_exists", field="name")
    contractor = Contractor.objects.create(name=name, service=service, contact_email=contact_email)
    audit.record(actor=who(actor), action=actions.CONTRACTOR_CREATE, obj=contractor, changes={"name": name})
    return contractor


def normalise_url(url: str) -> str:
    url = url.strip()
    if not url.startswith(("http://", "https://")):
        raise ServiceError(_("URLは http:// または https:// で始めてください。"), code="url_scheme", field="url")
    origin = parsers.origin(url)
    if origin.endswith("://"):
        raise ServiceError(_("URLにホスト名がありません。"), code="url_host", field="url")
    path = url[len(url.split("://", 1)[0]) + 3:].split("/", 1)
    rest = "/" + path[1] if len(path) > 1 else "/"
    return origin + rest.split("#", 1)[0]


@transaction.atomic
def system_create(
    *, actor: ActorLike, url: str, name: str, department: Department, contractor: Contractor | None = None,
    hosting: str = System.Hosting.DATACENTER, holds_personal_data: bool = False, personal_data_note: str = "",
    description: str = "",
) -> System:
    """Register a web site / web application in the systems register."""
    a = Actor.of(actor)
    if a.user is not None and not permissions.has_role(a.user, department.pk, Role.HANDLE):
        from hiroba.security import access

        if not access.OFFICE.is_office(a.user, Role.HANDLE):
            raise NotAllowed(_("この所属のシステムを登録する権限がありません。"))
    url = normalise_url(url)
    name = name.strip()
    if not name:
        raise ServiceError(_("システム名を入力してください。"), code="name_required", field="name")
    if System.objects.filter(url=url).exists():
        raise ServiceError(format_lazy(_("{url} は登録済みです。"), url=url), code="system_exists", field="url")
    if hosting not in System.Hosting.values:
        raise ServiceError(_("設置場所の値が正しくありません。"), code="hosting", field="hosting")
    system = System.objects.create(url=url, name=name, department=department, contractor=contractor, hosting=hosting,
                                   holds_personal_data=holds_personal_data, personal_data_note=personal_data_note,
                                   description=description)
    audit.record(actor=who(actor), action=actions.SYSTEM_CREATE, obj=system,
                 changes=audit.diff({}, audit.snapshot(system, ["url", "name", "department_id", "contractor_id",
                                                                "hosting", "holds_personal_data"])))
    return system


SYSTEM_FIELDS = ["url", "name", "department_id", "contractor_id", "hosting", "holds_personal_data",
                 "personal_data_note", "description"]


@transaction.atomic
def system_update(*, actor: ActorLike, system: System, **values: Any) -> System:
    """Change a registered system's entry (URL, name, department, hosting, personal data held).

    Only someone who may handle both the current and the new department's systems may change it;
    the change is audited with before/after."""
    system = System.objects.select_for_update().get(pk=system.pk)
    a = Actor.of(actor)
    from hiroba.security import access

    new_department = values.get("department", system.department)
    if a.user is not None:
        for dept_id in {system.department_id, new_department.pk}:
            if not (permissions.has_role(a.user, dept_id, Role.HANDLE) or access.OFFICE.is_office(a.user, Role.HANDLE)):
                raise NotAllowed(_("この所属のシステムを変更する権限がありません。"))
    before = audit.snapshot(system, SYSTEM_FIELDS)
    if "url" in values:
        url = normalise_url(values.pop("url"))
        if System.objects.filter(url=url).exclude(pk=system.pk).exists():
            raise ServiceError(format_lazy(_("{url} は登録済みです。"), url=url), code="system_exists", field="url")
        system.url = url
    if "name" in values:
        name = values.pop("name").strip()
        if not name:
            raise ServiceError(_("システム名を入力してください。"), code="name_required", field="name")
        system.name = name
    if "hosting" in values:
        if values["hosting"] not in System.Hosting.values:
            raise ServiceError(_("設置場所の値が正しくありません。"), code="hosting", field="hosting")
    for field in ("department", "contractor", "hosting", "holds_personal_data", "personal_data_note", "description"):
        if field in values:
            setattr(system, field, values[field])
    changes = audit.diff(before, audit.snapshot(system, SYSTEM_FIELDS))
    if changes:
        system.save()
        audit.record(actor=who(actor), action=actions.SYSTEM_UPDATE, obj=system, changes=changes)
    return system


def system_by_url(url: str) -> System:
    """The registered system of a URL (exact, or by its origin when only one system has it)."""
    try:
        normalised = normalise_url(url)
    except ServiceError:
        normalised = url.strip()
    system = System.objects.filter(url=normalised).first() or System.objects.filter(url=url.strip()).first()
    if system is None:
        candidates = [s for s in System.objects.filter(url__startswith=parsers.origin(url))]
        if len(candidates) == 1:
            system = candidates[0]
    if system is None:
        raise ServiceError(format_lazy(_("サイト {url} は登録されていません（hiroba security site add で登録して"
                                         "ください）。"), url=url), code="system_unknown", field="site")
    return system


# --- the finding workflow -------------------------------------------------------------------

@transaction.atomic
def finding_transition(*, actor: ActorLike, finding: Finding, name: str, reason: str = "") -> Finding:
    """Move a finding along its workflow (対応開始, 対応済, 解消の確認, 差戻し, 誤検知, 再開).

    Risk acceptance has its own two-step services (`risk_request`, `risk_decide`)."""
    if name == "accept_risk":
        raise ServiceError(_("リスク受容は申請と承認の手続で行ってください。"), code="use_risk_request")
    finding = Finding.objects.select_for_update().select_related("system").get(pk=finding.pk)
    before, after = Finding.workflow.apply(finding, name, actor=actor, reason=reason)
    today = timezone.localdate()
    fields = ["status", "updated_at"]
    if after == FindingStatus.RESOLVED:
        finding.resolved_on = today
        fields.append("resolved_on")
    if after in (FindingStatus.FALSE_POSITIVE, FindingStatus.OPEN) or name in ("mark_fixed", "send_back"):
        finding.decision_reason = reason.strip()
        fields.append("decision_reason")
    if name == "reopen":
        from hiroba.security.importing import due_date

        finding.reopen_count += 1
        finding.closed_round = None
        finding.resolved_on = None
        finding.due_on = due_date(finding.severity, today)
        fields += ["reopen_count", "closed_round", "resolved_on", "due_on"]
        RiskAcceptance.objects.filter(finding=finding, state=RiskAcceptance.State.APPROVED).update(
            state=RiskAcceptance.State.WITHDRAWN)
    finding.updated_at = timezone.now()
    finding.save(update_fields=fields)
    audit.record(actor=who(actor), action=actions.FINDING_TRANSITION, obj=finding,
                 changes={"status": [before, after], "transition": name, "reason": reason.strip()})
    return finding


@transaction.atomic
def risk_request(*, actor: ActorLike, finding: Finding, reason: str, expires_on: date) -> RiskAcceptance:
    """A department asks to accept the risk of a finding until `expires_on` (with the reason and
    the compensating measures); someone else holding 承認 on the department decides."""
    a = Actor.of(actor)
    finding = Finding.objects.select_for_update().select_related("system").get(pk=finding.pk)
    if a.user is None:
        raise NotAllowed(_("リスク受容の申請は職員が行います。"))
    if not a.user.has_perm("security.request_risk", finding):
        raise NotAllowed(_("この検出事項のリスク受容を申請する権限がありません。"))
    if finding.status not in ACTIVE_STATUSES:
        raise ServiceError(format_lazy(_("現在の状態（{state}）ではリスク受容を申請できません。"),
                                       state=finding.get_status_display()), code="invalid_state")
    if not reason.strip():
        raise ServiceError(_("受容の理由（代替策を含む）を入力してください。"), code="reason_required", field="reason")
    if expires_on <= timezone.localdate():
        raise ServiceError(_("受容の期限は明日以降の日付にしてください。"), code="expiry_past", field="expires_on")
    if finding.acceptances.filter(state__in=[RiskAcceptance.State.REQUESTED, RiskAcceptance.State.APPROVED]).exists():
        raise ServiceError(_("この検出事項には承認待ちのリスク受容があります。"), code="acceptance_pending")
    acceptance = RiskAcceptance.objects.create(finding=finding, reason=reason.strip(), expires_on=expires_on,
                                               requested_by=a.user)
    audit.record(actor=a.user, action=actions.RISK_REQUEST, obj=acceptance,
                 changes={"finding": finding.pk, "expires_on": expires_on, "reason": reason.strip()})
    return acceptance


@transaction.atomic
def risk_decide(*, actor: ActorLike, acceptance: RiskAcceptance, approve: bool, note: str = "") -> RiskAcceptance:
    """承認 or 却下 of a risk acceptance by a person other than the requester, holding 承認 on the
    finding's department. Approval puts the finding in リスク受容 until the expiry."""
    a = Actor.of(actor)
    acceptance = RiskAcceptance.objects.select_for_update().select_related("finding__system").get(pk=acceptance.pk)
    if acceptance.state != RiskAcceptance.State.REQUESTED:
        raise ServiceError(_("このリスク受容は承認待ちではありません。"), code="invalid_state")
    if a.user is None:
        raise NotAllowed(_("リスク受容の承認は職員が行います。"))
    if a.user.pk == acceptance.requested_by_id:
        raise NotAllowed(_("申請者本人は承認できません。所属の承認者に依頼してください。"))
    finding = Finding.objects.select_for_update().select_related("system").get(pk=acceptance.finding_id)
    if not a.user.has_perm("security.approve_risk", finding):
        raise NotAllowed(_("この所属の承認の役割がないため、リスク受容を承認できません。"))
    acceptance.approver = a.user
    acceptance.decided_at = timezone.now()
    acceptance.decision_note = note.strip()
    if approve:
        if acceptance.expires_on <= timezone.localdate():
            raise ServiceError(_("受容の期限が過ぎています。申請し直してください。"), code="expiry_past")
        before, after = Finding.workflow.apply(finding, "accept_risk", actor=a.user)
        finding.decision_reason = acceptance.reason
        finding.updated_at = timezone.now()
        finding.save(update_fields=["status", "decision_reason", "updated_at"])
        acceptance.state = RiskAcceptance.State.APPROVED
    else:
        before = after = finding.status
        acceptance.state = RiskAcceptance.State.REJECTED
    acceptance.save(update_fields=["approver", "decided_at", "decision_note", "state"])
    audit.record(actor=a.user, action=actions.RISK_DECIDE, obj=acceptance,
                 changes={"state": [RiskAcceptance.State.REQUESTED, acceptance.state], "finding": finding.pk,
                          "finding_status": [before, after], "note": note.strip()})
    return acceptance


@transaction.atomic
def risk_expire(*, actor: ActorLike = "system", today: date | None = None) -> int:
    """Reopen every finding whose approved risk acceptance has lapsed (idempotent: a lapsed
    acceptance is marked 期限切れ once, so running it again changes nothing). Returns how many."""
    from hiroba.security.importing import due_date

    today = today or timezone.localdate()
    lapsed = list(RiskAcceptance.objects.select_for_update().filter(
        state=RiskAcceptance.State.APPROVED, expires_on__lt=today).select_related("finding"))
    reopened = 0
    for acceptance in lapsed:
        finding = Finding.objects.select_for_update().get(pk=acceptance.finding_id)
        acceptance.state = RiskAcceptance.State.EXPIRED
        acceptance.save(update_fields=["state"])
        if finding.status == FindingStatus.RISK_ACCEPTED:
            finding.status = FindingStatus.OPEN
            finding.reopen_count += 1
            finding.due_on = due_date(finding.severity, today)
            finding.decision_reason = ""
            finding.updated_at = timezone.now()
            finding.save(update_fields=["status", "reopen_count", "due_on", "decision_reason", "updated_at"])
            reopened += 1
        audit.record(actor=who(actor), action=actions.RISK_EXPIRE, obj=acceptance,
                     changes={"finding": finding.pk, "expires_on": acceptance.expires_on,
                              "finding_status": [FindingStatus.RISK_ACCEPTED, finding.status]})
    return reopened
