"""Calibration of the answer-suggestion threshold (``SuggestParams.min_score``).

Two kinds of evidence, both run through :func:`hiroba.analysis.report.analyze` as a
consultation would be:

* **related pairs** — leave-one-out over a consultation with the ward's answers: each item's
  opinion is matched against the other items. A suggestion is a *hit* when its answer is the
  item's own answer (``exact``) or contains it or is contained in it (``related``, a standard
  answer reused with additions);
* **unrelated pairs** — opinions about other subjects, matched against every item: any
  suggestion they get is unrelated.

For each candidate threshold the table counts the items whose top ``k`` still holds a hit and
the unrelated opinions that still get a suggestion; the calibrated threshold maximises Youden's
J = (related hit rate) − (unrelated suggestion rate), the highest such threshold on ties
(fewer suggestions shown for the same J). Deterministic: same data, same table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from hiroba.analysis.model import Opinion, PastItem
from hiroba.analysis.normalize import fingerprint
from hiroba.analysis.report import Params, analyze

__all__ = ["CalibrationRow", "suggestion_calibration", "calibrated_threshold", "THRESHOLDS"]

#: candidate thresholds: 0.000, 0.005, …, 0.150
THRESHOLDS = tuple(round(k * 0.005, 3) for k in range(31))


@dataclass(frozen=True)
class CalibrationRow:
    threshold: float
    exact: int  #: items whose own answer is suggested (score >= threshold)
    related: int  #: items with a suggested answer containing, or contained in, their own
    exact_ceiling: int  #: items whose answer another item also has
    related_ceiling: int  #: items with a related answer among the others
    items: int
    unrelated_with_suggestion: int  #: unrelated opinions that still get a suggestion
    unrelated: int
    unrelated_shown: int  #: suggestions shown for unrelated opinions in all

    @property
    def j(self) -> float:
        hit = self.related / self.related_ceiling if self.related_ceiling else 0.0
        false = self.unrelated_with_suggestion / self.unrelated if self.unrelated else 0.0
        return hit - false


def _related(a: str, b: str) -> bool:
    return a == b or a in b or b in a


def suggestion_calibration(
    items: Sequence[PastItem],
    unrelated: Sequence[Opinion],
    *,
    thresholds: Sequence[float] = THRESHOLDS,
    params: Params | None = None,
) -> list[CalibrationRow]:
    """The table above for ``items`` (answered opinions of one consultation, ``id`` unique)
    and ``unrelated`` opinions; ``params`` as for :func:`analyze` (its ``min_score`` is ignored)."""
    base = params or Params()
    p = replace(base, suggest=replace(base.suggest, min_score=0.0), person_names=False)
    keys = {it.id: fingerprint(it.answer) for it in items}
    scored: list[tuple[str, list[tuple[float, str]]]] = []  # (own answer, [(score, answer)])
    for it in items:
        past = [o for o in items if o.id != it.id]
        report = analyze([Opinion(it.id, it.opinion)], past=past, params=p, workers=1)
        scored.append((keys[it.id], [(s["score"], fingerprint(s["answer"])) for s in report["suggestions"][it.id]]))
    exact_ceiling = sum(any(keys[o.id] == keys[it.id] for o in items if o.id != it.id) for it in items)
    related_ceiling = sum(any(_related(keys[o.id], keys[it.id]) for o in items if o.id != it.id) for it in items)
    report = analyze(list(unrelated), past=list(items), params=p, workers=1)
    other = [[s["score"] for s in report["suggestions"].get(u.id, [])] for u in unrelated]
    rows = []
    for t in thresholds:
        rows.append(CalibrationRow(
            threshold=t,
            exact=sum(any(s >= t and a == own for s, a in cands) for own, cands in scored),
            related=sum(any(s >= t and _related(a, own) for s, a in cands) for own, cands in scored),
            exact_ceiling=exact_ceiling,
            related_ceiling=related_ceiling,
            items=len(items),
            unrelated_with_suggestion=sum(any(s >= t for s in scores) for scores in other),
            unrelated=len(unrelated),
            unrelated_shown=sum(s >= t for scores in other for s in scores),
        ))
    return rows


def calibrated_threshold(rows: Sequence[CalibrationRow]) -> float:
    """The threshold with the largest J (rounded to 1e-9), the highest one on ties."""
    return max(rows, key=lambda r: (round(r.j, 9), r.threshold)).threshold
