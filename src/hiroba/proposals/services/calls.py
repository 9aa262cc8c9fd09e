"""Calls (募集): opening one with its rubric, changing its settings."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from hiroba.accounts.models import IdentityLevel, Relationship
from hiroba.core import audit, pagecache
from hiroba.core.actors import ActorLike
from hiroba.core.models import Department
from hiroba.proposals import audit_actions as actions
from hiroba.proposals.models import (
    Call,
    Participation,
    Proposal,
    RubricCriterion,
    Score,
)
from hiroba.proposals.services._common import _now
from hiroba.proposals.services.errors import (
    CallInvalid,
)

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
    actor: ActorLike,
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
    pagecache.invalidate("proposals")
    audit.record(actor=actor, action=actions.CALL_CREATE, obj=call, changes=changes)
    return call


@transaction.atomic
def call_update(*, actor: ActorLike, call: Call, criteria: Iterable[CriterionSpec | Sequence[Any]] | None = None,
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
    pagecache.invalidate("proposals")
    audit.record(actor=actor, action=actions.CALL_UPDATE, obj=call, changes=changes)
    return call
