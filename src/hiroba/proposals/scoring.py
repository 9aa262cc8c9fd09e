"""Screening arithmetic, without Django: weighted totals, per-reviewer z-scores, disagreement.

A harsh reviewer (everything 2/5) and a lenient one (everything 4/5) should weigh the same in
the shortlist. Each reviewer's weighted totals are standardised over every proposal that reviewer
scored in the call: z = (total − mean) / standard deviation (population). A reviewer with fewer
than two reviews, or who gave every proposal the same total, contributes z = 0 (no information
about relative merit). A proposal's normalised score is the mean z of its reviewers; the spread
(max z − min z) above the call's threshold flags a disagreement to discuss.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar


@dataclass(frozen=True)
class Criterion:
    id: int
    weight: int
    scale_max: int


def weighted_total(scores: Mapping[int, int], criteria: Iterable[Criterion]) -> float:
    """Weighted score on 0–100: Σ weight·score / Σ weight·scale_max × 100."""
    criteria = list(criteria)
    top = sum(c.weight * c.scale_max for c in criteria)
    if not top:
        return 0.0
    return round(100.0 * sum(c.weight * scores[c.id] for c in criteria) / top, 4)


def zscores(totals: Mapping[object, float]) -> dict[object, float]:
    """Standardise one reviewer's totals {proposal: total} (population standard deviation)."""
    values = list(totals.values())
    if len(values) < 2:
        return {key: 0.0 for key in totals}
    mean = sum(values) / len(values)
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
    if sd < 1e-9:
        return {key: 0.0 for key in totals}
    return {key: round((value - mean) / sd, 6) for key, value in totals.items()}


@dataclass
class ProposalScore:
    proposal: object
    raw: dict[object, float] = field(default_factory=dict)  # reviewer -> weighted total
    z: dict[object, float] = field(default_factory=dict)  # reviewer -> z-score

    @property
    def raw_mean(self) -> float | None:
        return round(sum(self.raw.values()) / len(self.raw), 2) if self.raw else None

    @property
    def z_mean(self) -> float | None:
        return round(sum(self.z.values()) / len(self.z), 3) if self.z else None

    @property
    def spread(self) -> float:
        return round(max(self.z.values()) - min(self.z.values()), 3) if len(self.z) >= 2 else 0.0

    def disagreement(self, threshold: float) -> bool:
        return self.spread > threshold


def normalise(reviews: Iterable[tuple[object, object, float]]) -> dict[object, ProposalScore]:
    """From (reviewer, proposal, weighted total) triples to a ProposalScore per proposal."""
    by_reviewer: dict[object, dict[object, float]] = defaultdict(dict)
    result: dict[object, ProposalScore] = {}
    for reviewer, proposal, total in reviews:
        by_reviewer[reviewer][proposal] = total
        result.setdefault(proposal, ProposalScore(proposal)).raw[reviewer] = total
    for reviewer, totals in by_reviewer.items():
        for proposal, z in zscores(totals).items():
            result[proposal].z[reviewer] = z
    return result


P = TypeVar("P", bound=Hashable)  # a proposal's key
R = TypeVar("R", bound=Hashable)  # a reviewer's key


def assign(
    proposals: Iterable[P],
    reviewers: Iterable[R],
    per_proposal: int,
    *,
    existing: Mapping[P, Iterable[R]] | None = None,
    excluded: Mapping[P, Iterable[R]] | None = None,
    salt: str = "",
) -> dict[P, list[R]]:
    """Deterministic, even assignment: each proposal goes to the least-loaded reviewers.

    `existing` {proposal: reviewers already active on it} counts towards both the need and the
    load; `excluded` {proposal: reviewers who may not review it (conflict, already assigned)}.
    Ties in load are broken by a hash of (salt, proposal, reviewer), so pairs vary from proposal
    to proposal but the same input always yields the same output. Returns the new pairs.
    """
    import hashlib

    panel = list(reviewers)
    active = {p: list(rs) for p, rs in (existing or {}).items()}
    barred = {p: set(rs) for p, rs in (excluded or {}).items()}
    load: dict[R, int] = {r: 0 for r in panel}
    for rs in active.values():
        for r in rs:
            if r in load:
                load[r] += 1

    def tiebreak(proposal: P, reviewer: R) -> str:
        return hashlib.sha256(f"{salt}:{proposal}:{reviewer}".encode()).hexdigest()

    new: dict[P, list[R]] = {}
    for proposal in proposals:
        have = set(active.get(proposal, []))
        need = per_proposal - len(have)
        if need <= 0:
            continue
        blocked = have | barred.get(proposal, set())
        candidates = sorted((r for r in panel if r not in blocked),
                            key=lambda r: (load[r], tiebreak(proposal, r)))
        chosen = candidates[:need]
        for r in chosen:
            load[r] += 1
        if chosen:
            new[proposal] = chosen
    return new
