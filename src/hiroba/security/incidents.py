"""Incidents and drills: the public report form, the register, the append-only timeline,
playbook checklists and improvement actions."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hiroba.accounts.models import Role, StaffMembership
from hiroba.core import audit, notify, receipts
from hiroba.core.actors import Actor, ActorLike
from hiroba.core.dates import fiscal_year_of
from hiroba.core.errors import NotAllowed, ServiceError
from hiroba.core.models import Department
from hiroba.security import access
from hiroba.security import audit_actions as actions
from hiroba.security.models import (
    ChecklistItem,
    ImprovementAction,
    Incident,
    Playbook,
    ReceiptCounter,
    System,
    TimelineEntry,
)
from hiroba.security.services import who

UPDATABLE = ["title", "description", "level", "department_id", "system_id", "personal_data", "persons_affected",
             "sensitive_data", "property_damage_risk", "wrongful_purpose", "ppc_quick_reported_on",
             "ppc_final_reported_on", "persons_notified_on", "containment", "cause", "lessons", "scenario",
             "participants", "participant_count"]


def _next_receipt(day: date) -> str:
    year = fiscal_year_of(day)
    ReceiptCounter.objects.get_or_create(fiscal_year=year)
    seq = receipts.take_next(ReceiptCounter, year, "last_number")
    return receipts.receipt_number(f"SEC{year}", seq)


def office_recipients() -> list[str]:
    office = access.OFFICE.department()
    if office is None:
        return []
    today = timezone.localdate()
    return sorted(set(StaffMembership.objects.filter(
        department_id__in=office.descendant_ids(), role__gte=Role.HANDLE, user__is_active=True,
        starts_on__lte=today).exclude(ends_on__lt=today).values_list("user__email", flat=True)))


@transaction.atomic
def incident_report_receive(*, actor: ActorLike, description: str, related_url: str = "", name: str = "",
                            email: str = "", site_url: str = "") -> Incident:
    """A report through the public 「セキュリティに関するご連絡」 form: filed as an incident with a
    受付番号 (shown only after this transaction commits); the CISO office is e-mailed."""
    description = description.strip()
    if not description:
        raise ServiceError(_("ご連絡の内容を入力してください。"), code="description_required", field="description")
    office = access.OFFICE.department()
    if office is None:
        raise ServiceError(_("受付の窓口が設定されていません。お手数ですが電話でご連絡ください。"), code="no_office")
    now = timezone.now()
    incident = Incident.objects.create(
        receipt_number=_next_receipt(timezone.localdate()), title=description.splitlines()[0][:80],
        description=description, related_url=related_url.strip(), channel=Incident.Channel.PUBLIC_FORM,
        detected_at=now, department=office, reporter_name=name.strip()[:100], reporter_email=email.strip(),
    )
    TimelineEntry.objects.create(incident=incident, occurred_at=now, kind=TimelineEntry.Kind.DETECTION,
                                 text="「セキュリティに関するご連絡」フォームで受付", recorded_label="public")
    audit.record(actor=Actor.of(actor).audit_label, action=actions.INCIDENT_REPORT, obj=incident,
                 object_repr=incident.receipt_number, changes={"channel": incident.channel,
                                                               "has_contact": bool(incident.reporter_email)})
    staff_url = site_url.rstrip("/") + f"/staff/security/incidents/{incident.pk}/" if site_url else ""
    notify.send(template="security/mail/public_report", to=office_recipients(),
                context={"incident": incident, "staff_url": staff_url}, about=incident)
    if incident.reporter_email:
        notify.send(template="security/mail/report_receipt", to=incident.reporter_email,
                    context={"incident": incident}, about=incident)
    return incident


@transaction.atomic
def incident_create(*, actor: ActorLike, title: str, description: str, channel: str, department: Department,
                    detected_at: datetime | None = None, system: System | None = None, level: str = "unknown",
                    is_drill: bool = False, scenario: str = "", participants: str = "",
                    participant_count: int | None = None, **facts: Any) -> Incident:
    """Register an incident (or a drill, which uses the same record with a scenario)."""
    a = Actor.of(actor)
    if a.user is not None and not access.OFFICE.has_role(a.user, department.pk, Role.HANDLE):
        raise NotAllowed(_("この所属のインシデントを登録する権限がありません。"))
    if not title.strip():
        raise ServiceError(_("件名を入力してください。"), code="title_required", field="title")
    if channel not in Incident.Channel.values:
        raise ServiceError(_("検知経路が正しくありません。"), code="channel", field="channel")
    if is_drill and not scenario.strip():
        raise ServiceError(_("訓練にはシナリオを入力してください。"), code="scenario_required", field="scenario")
    when = detected_at or timezone.now()
    incident = Incident.objects.create(
        receipt_number=_next_receipt(timezone.localtime(when).date()), title=title.strip(),
        description=description.strip(), channel=channel, department=department, detected_at=when, system=system,
        level=level, is_drill=is_drill, scenario=scenario.strip(), participants=participants.strip(),
        participant_count=participant_count, **{k: v for k, v in facts.items() if k in UPDATABLE},
    )
    TimelineEntry.objects.create(incident=incident, occurred_at=when, kind=TimelineEntry.Kind.DETECTION,
                                 text=f"{incident.get_channel_display()}で把握" + ("（訓練）" if is_drill else ""),
                                 recorded_by=a.user, recorded_label=a.audit_label)
    audit.record(actor=who(actor), action=actions.INCIDENT_CREATE, obj=incident,
                 changes={"title": incident.title, "channel": channel, "is_drill": is_drill})
    return incident


def _editable(actor: ActorLike, incident: Incident) -> Incident:
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    a = Actor.of(actor)
    if a.user is not None and not a.user.has_perm("security.change_incident", incident):
        raise NotAllowed(_("このインシデントを更新する権限がありません。"))
    return incident


@transaction.atomic
def incident_update(*, actor: ActorLike, incident: Incident, **changes: Any) -> Incident:
    """Change the facts of an open incident (level, personal data, reports made, cause …)."""
    incident = _editable(actor, incident)
    if incident.state == Incident.State.CLOSED:
        raise ServiceError(_("終結したインシデントは変更できません（経過の追記はできます）。"), code="closed")
    unknown = set(changes) - set(UPDATABLE)
    if unknown:
        raise ServiceError(_("変更できない項目が含まれています。"), code="unknown_field")
    before = audit.snapshot(incident, list(changes))
    for name, value in changes.items():
        setattr(incident, name, value)
    incident.save(update_fields=list(changes))
    audit.record(actor=who(actor), action=actions.INCIDENT_UPDATE, obj=incident,
                 changes=audit.diff(before, audit.snapshot(incident, list(changes))))
    return incident


@transaction.atomic
def incident_transition(*, actor: ActorLike, incident: Incident, name: str, note: str = "") -> Incident:
    """調査開始 / 封じ込め / 復旧 / 終結; each step also goes into the timeline."""
    incident = _editable(actor, incident)
    Incident.workflow.check(incident, name, actor=actor)
    if name == "close" and not incident.is_drill and not incident.lessons.strip():
        raise ServiceError(_("終結の前に、教訓・再発防止策を記録してください。"), code="lessons_required", field="lessons")
    before, after = Incident.workflow.apply(incident, name, actor=actor)
    fields = ["state"]
    if after == Incident.State.CLOSED:
        incident.closed_at = timezone.now()
        fields.append("closed_at")
    incident.save(update_fields=fields)
    a = Actor.of(actor)
    kind = {"contain": TimelineEntry.Kind.CONTAINMENT, "recover": TimelineEntry.Kind.RECOVERY}.get(
        name, TimelineEntry.Kind.NOTE)
    label = str(Incident.State(after).label)
    TimelineEntry.objects.create(incident=incident, occurred_at=timezone.now(), kind=kind,
                                 text=f"状況を「{label}」にしました" + (f"：{note.strip()}" if note.strip() else ""),
                                 recorded_by=a.user, recorded_label=a.audit_label)
    audit.record(actor=who(actor), action=actions.INCIDENT_TRANSITION, obj=incident,
                 changes={"state": [before, after], "note": note.strip()})
    return incident


@transaction.atomic
def timeline_append(*, actor: ActorLike, incident: Incident, text: str, kind: str = TimelineEntry.Kind.NOTE,
                    occurred_at: datetime | None = None) -> TimelineEntry:
    """Add one entry to the timeline (append-only: entries are never edited or removed)."""
    incident = _editable(actor, incident)
    if not text.strip():
        raise ServiceError(_("経過の内容を入力してください。"), code="text_required", field="text")
    if kind not in TimelineEntry.Kind.values:
        raise ServiceError(_("経過の区分が正しくありません。"), code="kind", field="kind")
    when = occurred_at or timezone.now()
    if when > timezone.now() + timedelta(minutes=5):
        raise ServiceError(_("未来の日時の経過は記録できません。"), code="future", field="occurred_at")
    a = Actor.of(actor)
    entry = TimelineEntry.objects.create(incident=incident, occurred_at=when, kind=kind, text=text.strip(),
                                         recorded_by=a.user, recorded_label=a.audit_label)
    audit.record(actor=who(actor), action=actions.TIMELINE_APPEND, obj=incident,
                 changes={"entry": entry.pk, "kind": kind, "occurred_at": when})
    return entry


@transaction.atomic
def playbook_save(*, actor: ActorLike, title: str, steps: list[str], description: str = "") -> Playbook:
    """Create or revise a playbook (手順書) — the CISO office's."""
    a = Actor.of(actor)
    if a.user is not None and not a.user.has_perm("security.manage_register"):
        raise NotAllowed(_("手順書の登録は情報システム課（CISO事務局）が行います。"))
    steps = [s.strip() for s in steps if s.strip()]
    if not title.strip() or not steps:
        raise ServiceError(_("手順書名と手順（1つ以上）を入力してください。"), code="playbook_incomplete")
    playbook, created = Playbook.objects.update_or_create(
        title=title.strip(), defaults={"steps": steps, "description": description.strip(), "updated_at": timezone.now()})
    audit.record(actor=who(actor), action=actions.PLAYBOOK_SAVE, obj=playbook,
                 changes={"created": created, "steps": len(steps)})
    return playbook


@transaction.atomic
def checklist_attach(*, actor: ActorLike, incident: Incident, playbook: Playbook) -> int:
    """Copy a playbook's steps onto the incident as a checklist (once per playbook)."""
    incident = _editable(actor, incident)
    if incident.checklist.filter(playbook=playbook).exists():
        raise ServiceError(_("この手順書は添付済みです。"), code="attached")
    ChecklistItem.objects.bulk_create([ChecklistItem(incident=incident, playbook=playbook, number=i, text=step[:500])
                                       for i, step in enumerate(playbook.steps, start=1)])
    audit.record(actor=who(actor), action=actions.CHECKLIST_ATTACH, obj=incident,
                 changes={"playbook": playbook.title, "steps": len(playbook.steps)})
    return len(playbook.steps)


@transaction.atomic
def checklist_tick(*, actor: ActorLike, item: ChecklistItem) -> ChecklistItem:
    item = ChecklistItem.objects.select_for_update().select_related("incident").get(pk=item.pk)
    _editable(actor, item.incident)
    if item.done_at is not None:
        raise ServiceError(_("この手順は実施済みです。"), code="done")
    item.done_at = timezone.now()
    item.done_by = Actor.of(actor).user
    item.save(update_fields=["done_at", "done_by"])
    audit.record(actor=who(actor), action=actions.CHECKLIST_TICK, obj=item.incident,
                 changes={"item": item.pk, "text": item.text})
    return item


@transaction.atomic
def improvement_create(*, actor: ActorLike, incident: Incident, opinion: str, department: Department,
                       action: str = "", due_on: date | None = None) -> ImprovementAction:
    """An improvement point from an incident or a drill (a participant's opinion and what to do)."""
    incident = _editable(actor, incident)
    if not opinion.strip():
        raise ServiceError(_("意見・気づきを入力してください。"), code="opinion_required", field="opinion")
    item = ImprovementAction.objects.create(incident=incident, opinion=opinion.strip(), action=action.strip(),
                                            department=department, due_on=due_on)
    audit.record(actor=who(actor), action=actions.IMPROVEMENT_CREATE, obj=item,
                 changes={"incident": incident.pk, "department": department.code})
    return item


@transaction.atomic
def improvement_close(*, actor: ActorLike, item: ImprovementAction, note: str) -> ImprovementAction:
    item = ImprovementAction.objects.select_for_update().get(pk=item.pk)
    a = Actor.of(actor)
    if a.user is not None and not access.OFFICE.has_role(a.user, item.department_id, Role.HANDLE):
        raise NotAllowed(_("この改善事項を完了にする権限がありません。"))
    if item.state == ImprovementAction.State.DONE:
        raise ServiceError(_("この改善事項は完了済みです。"), code="done")
    if not note.strip():
        raise ServiceError(_("完了の内容を入力してください。"), code="note_required", field="note")
    item.state = ImprovementAction.State.DONE
    item.closed_at = timezone.now()
    item.closing_note = note.strip()
    item.save(update_fields=["state", "closed_at", "closing_note"])
    audit.record(actor=who(actor), action=actions.IMPROVEMENT_CLOSE, obj=item, changes={"note": item.closing_note})
    return item

