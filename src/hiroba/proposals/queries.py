"""Reads, scoped to what the reader may see.

Reviewers read proposals only through `blind_*`: those querysets select the proposal's text and
nothing that identifies the proposer (no proposer, category, label, source, attachments' names).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from hiroba.accounts import permissions
from hiroba.accounts.models import Role
from hiroba.proposals import scoring
from hiroba.proposals.models import (
    Call,
    FollowUp,
    Milestone,
    Participation,
    Proposal,
    ReviewAssignment,
    ScreeningDecision,
)

# The only proposal columns a reviewer's page may read.
BLIND_FIELDS = ("id", "receipt_number", "title", "problem", "idea", "beneficiaries")


def staff_calls(user: Any) -> QuerySet[Call]:
    ids = permissions.department_ids(user, Role.READ)
    calls = Call.objects.select_related("department")
    return calls if ids is None else calls.filter(department_id__in=ids)


def public_calls() -> QuerySet[Call]:
    return Call.objects.filter(published_at__isnull=False).select_related("result")


def public_proposals(call: Call, now: datetime | None = None) -> QuerySet[Proposal]:
    """Received, not hidden proposals — shown once the 募集 has closed (no copying while it runs)."""
    if timezone.localdate(now or timezone.now()) <= call.submission_end:
        return Proposal.objects.none()
    return call.proposals.filter(status=Proposal.Status.SUBMITTED, hidden_at__isnull=True).order_by("receipt_number")


def shortlist(call: Call) -> QuerySet[Proposal]:
    return call.proposals.filter(status=Proposal.Status.SUBMITTED, hidden_at__isnull=True,
                                 screening_decision=ScreeningDecision.SHORTLISTED).order_by("receipt_number")


def blind_assignments(user: Any) -> QuerySet[ReviewAssignment]:
    """A reviewer's queue: assignments with the proposal's blind fields only."""
    return (ReviewAssignment.objects.filter(reviewer__user=user)
            .select_related("reviewer__call", "proposal")
            .only("id", "status", "submitted_at", "reviewer__id", "reviewer__user_id", "reviewer__call__slug",
                  "reviewer__call__title", "reviewer__call__voting_start", "reviewer__call__submission_end",
                  *(f"proposal__{f}" for f in BLIND_FIELDS))
            .order_by("reviewer__call_id", "proposal__receipt_number"))


def blind_proposal(assignment_id: int) -> dict[str, Any]:
    """The proposal behind an assignment, as a reviewer sees it (a dict of BLIND_FIELDS)."""
    pid = ReviewAssignment.objects.filter(pk=assignment_id).values_list("proposal_id", flat=True).get()
    row = Proposal.objects.filter(pk=pid).values(*BLIND_FIELDS).get()
    from hiroba.proposals.models import Attachment

    row["attachments"] = [
        {"id": a["id"], "label": f"添付{i}", "content_type": a["content_type"], "size": a["size"]}
        for i, a in enumerate(Attachment.objects.filter(proposal_id=pid).order_by("pk")
                              .values("id", "content_type", "size"), start=1)
    ]
    return row


@dataclass
class ScreeningRow:
    proposal: Proposal
    reviews: int
    assigned: int
    conflicts: int
    score: scoring.ProposalScore | None
    flagged: bool

    @property
    def raw_mean(self) -> float | None:
        return self.score.raw_mean if self.score else None

    @property
    def z_mean(self) -> float | None:
        return self.score.z_mean if self.score else None

    @property
    def spread(self) -> float:
        return self.score.spread if self.score else 0.0


def screening_table(call: Call) -> list[ScreeningRow]:
    """Per proposal: raw weighted mean (0–100) beside the mean of per-reviewer z-scores, and the
    disagreement flag. Sorted by normalised score, best first."""
    criteria = [scoring.Criterion(c.pk, c.weight, c.scale_max) for c in call.criteria.all()]
    assignments = (ReviewAssignment.objects.filter(proposal__call=call)
                   .values_list("pk", "proposal_id", "reviewer_id", "status"))
    from hiroba.proposals.models import Score

    values: dict[int, dict[int, int]] = {}
    for aid, cid, value in Score.objects.filter(assignment__proposal__call=call).values_list(
            "assignment_id", "criterion_id", "value"):
        values.setdefault(aid, {})[cid] = value
    triples = []
    counts: dict[int, dict[str, int]] = {}
    for aid, pid, rid, status in assignments:
        c = counts.setdefault(pid, {"assigned": 0, "submitted": 0, "conflict": 0})
        if status == ReviewAssignment.Status.CONFLICT:
            c["conflict"] += 1
            continue
        c["assigned"] += 1
        if status == ReviewAssignment.Status.SUBMITTED and len(values.get(aid, {})) == len(criteria):
            c["submitted"] += 1
            triples.append((rid, pid, scoring.weighted_total(values[aid], criteria)))
    scores = scoring.normalise(triples)
    threshold = float(call.disagreement_threshold or Decimal("1.5"))
    rows = []
    for proposal in call.proposals.filter(status=Proposal.Status.SUBMITTED).order_by("receipt_number"):
        c = counts.get(proposal.pk, {"assigned": 0, "submitted": 0, "conflict": 0})
        score = scores.get(proposal.pk)
        rows.append(ScreeningRow(proposal, c["submitted"], c["assigned"], c["conflict"], score,
                                 bool(score and score.disagreement(threshold))))
    rows.sort(key=lambda r: (r.z_mean is None, -(r.z_mean or 0.0), r.proposal.receipt_number))
    return rows


def voters(call: Call) -> QuerySet[Participation]:
    """Who voted, by which channel and how many votes — never for what."""
    return (Participation.objects.filter(call=call, ballot_count__gt=0)
            .select_related("user", "verification", "entered_by").order_by("pk"))


def voter_totals(call: Call) -> dict[str, int]:
    from django.db.models import Sum

    agg = Participation.objects.filter(call=call, ballot_count__gt=0).aggregate(
        voters=Count("pk"), votes=Sum("ballot_count"),
        online=Count("pk", filter=Q(channel=Participation.Channel.ONLINE)),
        paper=Count("pk", filter=Q(channel=Participation.Channel.PAPER)))
    return {k: v or 0 for k, v in agg.items()}


@dataclass
class ResultRow:
    proposal: Proposal
    votes: int
    rank: int | None


def result_rows(call: Call) -> list[ResultRow]:
    """Every received proposal with its published votes, ranked among the shortlisted."""
    result = call.result
    rows = [ResultRow(p, int(result.tally.get(p.receipt_number, 0)), None)
            for p in call.proposals.filter(status=Proposal.Status.SUBMITTED).select_related("followup")
            .order_by("receipt_number")]
    rows.sort(key=lambda r: (not r.proposal.is_shortlisted, -r.votes, r.proposal.receipt_number))
    rank, previous = 0, None
    for i, row in enumerate(rows, start=1):
        if row.proposal.is_shortlisted:
            if row.votes != previous:
                rank, previous = i, row.votes
            row.rank = rank
    return rows


def public_followups() -> QuerySet[FollowUp]:
    return (FollowUp.objects.filter(proposal__call__published_at__isnull=False, proposal__hidden_at__isnull=True)
            .select_related("proposal__call", "department")
            .prefetch_related(Prefetch("milestones", queryset=Milestone.objects.order_by("due_on", "pk")))
            .order_by("-proposal__call__voting_end", "proposal__receipt_number"))


def my_proposals(user: Any) -> QuerySet[Proposal]:
    return Proposal.objects.filter(proposer=user).select_related("call").order_by("-created_at")
