"""Programmes (企画) and their quotas."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from hiroba.core import audit
from hiroba.core.actors import ActorLike
from hiroba.core.models import Department
from hiroba.workshops import audit_actions as actions
from hiroba.workshops.models import (
    Programme,
    Quota,
)
from hiroba.workshops.services.errors import WorkshopError

PROGRAMME_FIELDS = [
    "title", "purpose", "audience", "residency_required", "grade_min", "grade_max", "age_min", "age_max",
    "age_on", "capacity", "waitlist_size", "applications_open_on", "applications_close_on",
    "consent_deadline", "selection_method", "lottery_seed_rule", "quota_kind", "privacy_notice",
    "starts_on", "ends_on", "purge_on", "is_published",
]
# Fields fixed once applications exist: changing them would change who may apply or how
# applicants are chosen after the fact.
RULE_FIELDS = {"residency_required", "grade_min", "grade_max", "age_min", "age_max", "age_on", "capacity",
               "waitlist_size", "selection_method", "lottery_seed_rule", "quota_kind",
               "applications_open_on", "consent_deadline"}


@transaction.atomic
def programme_create(*, actor: ActorLike, department: Department, code: str, **fields: Any) -> Programme:
    """Create a programme (企画) organised by `department`."""
    unknown = set(fields) - set(PROGRAMME_FIELDS)
    if unknown:
        raise TypeError(f"unknown programme fields: {sorted(unknown)}")
    if Programme.objects.filter(code=code).exists():
        raise WorkshopError(_("この企画コードはすでに使われています。"), "duplicate_code", field="code")
    programme = Programme(department=department, code=code, **fields)
    programme.full_clean()
    programme.save()
    audit.record(actor=actor, action=actions.PROGRAMME_CREATE, obj=programme,
                 changes=audit.diff({}, audit.snapshot(programme, ["code", "department_id", *PROGRAMME_FIELDS])))
    return programme


@transaction.atomic
def programme_update(*, actor: ActorLike, programme: Programme, **fields: Any) -> Programme:
    """Change a programme. The audience, capacity and selection rules are fixed once anyone applied."""
    unknown = set(fields) - set(PROGRAMME_FIELDS)
    if unknown:
        raise TypeError(f"unknown programme fields: {sorted(unknown)}")
    programme = Programme.objects.select_for_update().get(pk=programme.pk)
    before = audit.snapshot(programme, PROGRAMME_FIELDS)
    changed_rules = {name for name in RULE_FIELDS & set(fields) if before[name] != audit._plain(fields[name])}
    if changed_rules and programme.applications.exists():
        raise WorkshopError(_("申込みがあるため、対象・定員・選考方法・受付開始日は変更できません。"), "rules_fixed")
    for name, value in fields.items():
        setattr(programme, name, value)
    programme.full_clean()
    programme.save()
    audit.record(actor=actor, action=actions.PROGRAMME_UPDATE, obj=programme,
                 changes=audit.diff(before, audit.snapshot(programme, PROGRAMME_FIELDS)))
    return programme


@transaction.atomic
def quota_set(*, actor: ActorLike, programme: Programme, group: str, seats: int) -> Quota | None:
    """Reserve `seats` for a group (0 removes the quota). Only before the lottery is published."""
    if hasattr(programme, "lottery"):
        raise WorkshopError(_("抽選の条件を公開した後は、優先枠を変更できません。"), "lottery_published")
    if not programme.quota_kind:
        raise WorkshopError(_("優先枠の区分（学年または学校）を先に設定してください。"), "no_quota_kind")
    others = sum(q.seats for q in programme.quotas.exclude(group=group))
    if others + seats > programme.capacity:
        raise WorkshopError(_("優先枠の合計が定員を超えます。"), "quota_exceeds_capacity", field="seats")
    before = {"seats": programme.quotas.filter(group=group).values_list("seats", flat=True).first()}
    quota = None
    if seats <= 0:
        programme.quotas.filter(group=group).delete()
    else:
        quota, _created = Quota.objects.update_or_create(programme=programme, group=group, defaults={"seats": seats})
    audit.record(actor=actor, action=actions.QUOTA_SET, obj=programme,
                 changes={"group": group, **audit.diff(before, {"seats": seats or None})})
    return quota
