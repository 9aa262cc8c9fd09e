"""提案募集: calls, the proposals that are public, the published vote results with the ballot
digest, and what became of adopted proposals (事業化の状況)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema

from hiroba.api.base import ERRORS, License, SharedThrottle, licensed, page
from hiroba.api.schemas import PageQuery
from hiroba.core import tabular
from hiroba.proposals import exports, queries
from hiroba.proposals.models import Call, Proposal

router = Router(tags=["提案募集"], throttle=SharedThrottle("api.public"))


def call_id(slug: str) -> str:
    return f"proposals/call/{slug}"


class PhaseOut(Schema):
    label: str
    starts_on: date
    ends_on: date | None


class CallOut(Schema):
    id: str
    slug: str
    title: str
    theme: str
    rules: str
    department: str
    phase: str
    phases: list[PhaseOut]
    votes_per_voter: int
    has_results: bool
    url: str


class CallList(Schema):
    license: License
    items: list[CallOut]
    next_cursor: str | None


class CallDetail(CallOut):
    license: License


class ProposalOut(Schema):
    id: str
    receipt_number: str
    title: str
    problem: str
    idea: str
    beneficiaries: str
    proposer: str
    screening: str
    screening_reason: str


class ProposalList(Schema):
    license: License
    items: list[ProposalOut]
    next_cursor: str | None


class VoteRowOut(Schema):
    receipt_number: str
    title: str
    category: str
    proposer: str
    screening: str
    reason: str
    votes: int
    rank: int | None
    adopted: str
    followup: str


class VoteResultOut(Schema):
    license: License
    id: str
    call: str
    title: str
    applications: int
    voters: int
    votes: int
    online_voters: int
    paper_voters: int
    published_at: str
    ballots_sha256: str
    ballots_url: str
    proposals: list[VoteRowOut]


class MilestoneOut(Schema):
    title: str
    due_on: date
    done_on: date | None


class FollowUpOut(Schema):
    id: str
    call: str
    receipt_number: str
    title: str
    department: str
    status: str
    budget_step: str
    summary: str
    updated_at: datetime
    milestones: list[MilestoneOut]


class FollowUpList(Schema):
    license: License
    items: list[FollowUpOut]
    next_cursor: str | None


def _public_call(slug: str) -> Call:
    return get_object_or_404(queries.public_calls().select_related("department"), slug=slug)


def call_out(call: Call) -> dict[str, Any]:
    return {
        "id": call_id(call.slug), "slug": call.slug, "title": call.title, "theme": call.theme, "rules": call.rules,
        "department": call.department.name, "phase": call.phase().label,
        "phases": [{"label": label, "starts_on": first, "ends_on": last} for label, first, last in call.phases()],
        "votes_per_voter": call.votes_per_voter, "has_results": hasattr(call, "result"),
        "url": call.get_absolute_url(),
    }


def proposal_out(call: Call, p: Proposal) -> dict[str, Any]:
    return {"id": f"{call_id(call.slug)}/proposal/{p.receipt_number}", "receipt_number": p.receipt_number,
            "title": p.title, "problem": p.problem, "idea": p.idea, "beneficiaries": p.beneficiaries,
            "proposer": p.public_proposer, "screening": p.get_screening_decision_display(),
            "screening_reason": p.screening_reason}


@router.get("/calls", response={200: CallList, **ERRORS}, summary="提案募集の一覧")
def call_list(request: HttpRequest, q: Query[PageQuery]) -> dict[str, Any]:
    items, cursor = page(queries.public_calls().select_related("department"), cursor=q.cursor, limit=q.limit)
    return licensed(items=[call_out(c) for c in items], next_cursor=cursor)


@router.get("/calls/{slug}", response={200: CallDetail, **ERRORS}, summary="提案募集")
def call_detail(request: HttpRequest, slug: str) -> dict[str, Any]:
    return licensed(**call_out(_public_call(slug)))


@router.get("/calls/{slug}/proposals", response={200: ProposalList, **ERRORS}, summary="公開している提案",
            description="募集の締切後に公開した提案（非公開にした提案は含みません）。個人の提案者の氏名は返しません。")
def proposal_list(request: HttpRequest, slug: str, q: Query[PageQuery]) -> dict[str, Any]:
    call = _public_call(slug)
    items, cursor = page(queries.public_proposals(call), cursor=q.cursor, limit=q.limit)
    return licensed(items=[proposal_out(call, p) for p in items], next_cursor=cursor)


@router.get("/calls/{slug}/results", response={200: VoteResultOut, **ERRORS}, summary="投票結果",
            description="公表した投票結果。提案ごとの行は結果のCSV・JSONと同じです。`ballots_sha256` は匿名化した投票データのSHA-256で、"
                        "`ballots_url` の投票データから誰でも数え直せます。")
def results(request: HttpRequest, slug: str) -> dict[str, Any]:
    call = _public_call(slug)
    if not hasattr(call, "result"):
        raise Http404(_("結果はまだ公表されていません。"))
    rows = tabular.records(exports.table(call, preamble=[]))
    return licensed(id=f"{call_id(call.slug)}/results", **exports.summary(call), proposals=rows,
                    ballots_url=reverse("proposals:export", args=[call.slug, "ballots"]))


@router.get("/followups", response={200: FollowUpList, **ERRORS}, summary="採用された提案の事業化の状況")
def followups(request: HttpRequest, q: Query[PageQuery]) -> dict[str, Any]:
    items, cursor = page(queries.public_followups(), cursor=q.cursor, limit=q.limit)
    return licensed(items=[{
        "id": f"{call_id(f.proposal.call.slug)}/proposal/{f.proposal.receipt_number}/followup",
        "call": f.proposal.call.slug, "receipt_number": f.proposal.receipt_number, "title": f.proposal.title,
        "department": f.department.name, "status": f.get_status_display(), "budget_step": f.budget_step,
        "summary": f.summary, "updated_at": f.updated_at,
        "milestones": [{"title": m.title, "due_on": m.due_on, "done_on": m.done_on} for m in f.milestones.all()],
    } for f in items], next_cursor=cursor)
