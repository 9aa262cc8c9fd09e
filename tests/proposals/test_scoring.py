"""The screening arithmetic (pure Python): weighted totals, z-scores, assignment."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from hiroba.proposals import scoring

CRITERIA = [scoring.Criterion(1, 2, 5), scoring.Criterion(2, 1, 5)]


def test_weighted_total_is_on_a_0_to_100_scale():
    assert scoring.weighted_total({1: 5, 2: 5}, CRITERIA) == 100.0
    assert scoring.weighted_total({1: 1, 2: 4}, CRITERIA) == round(100 * (2 + 4) / 15, 4)


def test_a_harsh_and_a_lenient_reviewer_weigh_the_same():
    # The lenient reviewer gives everything 30 points more, the harsh one everything 30 fewer:
    # after normalisation their views of the three proposals are identical.
    reviews = [("harsh", p, t) for p, t in (("A", 20.0), ("B", 30.0), ("C", 40.0))]
    reviews += [("lenient", p, t + 50) for p, t in (("A", 20.0), ("B", 30.0), ("C", 40.0))]
    scores = scoring.normalise(reviews)
    assert scores["A"].z["harsh"] == scores["A"].z["lenient"]
    assert scores["C"].z_mean > scores["B"].z_mean > scores["A"].z_mean
    assert scores["A"].spread == 0.0


def test_disagreement_is_flagged_above_the_threshold():
    reviews = [("r1", "A", 90.0), ("r1", "B", 10.0), ("r2", "A", 10.0), ("r2", "B", 90.0)]
    scores = scoring.normalise(reviews)
    assert scores["A"].spread == 2.0 and scores["A"].disagreement(1.5)
    assert not scores["A"].disagreement(2.0)


def test_a_reviewer_with_one_review_or_no_spread_contributes_zero():
    assert scoring.zscores({"A": 70.0}) == {"A": 0.0}
    assert scoring.zscores({"A": 50.0, "B": 50.0}) == {"A": 0.0, "B": 0.0}


# A reviewer's totals are what `weighted_total` gives: 0–100 at four decimals. (Arbitrary floats let
# hypothesis find totals 1e-8 apart, whose spread a factor of 0.125 takes under zscores' "all the
# same" threshold — a difference no reviewer can give.)
TOTALS = st.integers(min_value=0, max_value=1_000_000).map(lambda n: n / 10_000)


@given(st.lists(TOTALS, min_size=2, max_size=30),
       st.floats(min_value=0.1, max_value=10), st.floats(min_value=-50, max_value=50))
def test_z_scores_ignore_a_reviewers_scale_and_offset(totals, factor, offset):
    base = scoring.zscores(dict(enumerate(totals)))
    shifted = scoring.zscores({k: v * factor + offset for k, v in enumerate(totals)})
    for key in base:
        assert abs(base[key] - shifted[key]) < 1e-3
    assert abs(sum(base.values())) < 1e-3


@settings(max_examples=60)
@given(st.integers(min_value=1, max_value=60), st.integers(min_value=2, max_value=9), st.integers(min_value=1, max_value=3))
def test_assignment_is_even_and_deterministic(n_proposals, n_reviewers, per_proposal):
    per_proposal = min(per_proposal, n_reviewers)
    proposals, reviewers = list(range(n_proposals)), [f"r{i}" for i in range(n_reviewers)]
    pairs = scoring.assign(proposals, reviewers, per_proposal, salt="x")
    assert pairs == scoring.assign(proposals, reviewers, per_proposal, salt="x")
    assert all(len(set(rs)) == per_proposal for rs in pairs.values()) and len(pairs) == n_proposals
    load = Counter(r for rs in pairs.values() for r in rs)
    counts = [load.get(r, 0) for r in reviewers]
    assert max(counts) - min(counts) <= 1


def test_assignment_skips_excluded_reviewers():
    pairs = scoring.assign(["A"], ["r1", "r2", "r3"], 2, excluded={"A": ["r1"]})
    assert set(pairs["A"]) == {"r2", "r3"}
