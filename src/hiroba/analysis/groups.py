"""Same-intent groups over distinct opinions.

Units are the distinct opinions: one per campaign (its representative) and every other
distinct text. Each unit becomes a TF-IDF vector over its Sudachi content words; units
whose cosine similarity is at least ``threshold`` are neighbours (at most
``max_neighbours`` per unit; counted in blocks and listed on demand by
:class:`~hiroba.analysis.vectors.SimilarityIndex` — never an n×n matrix).

Clustering is *star clustering*, deterministic and explainable: units are visited by
number of neighbours (descending), ties by smallest id; an unassigned unit becomes a
group's centre and takes its unassigned neighbours. Every member is therefore similar to
its centre by at least ``threshold``, and the evidence lists that similarity and the
terms it shares with the centre. Groups are labelled by the heaviest terms of their
centroid and ordered by number of opinions (descending), ties by smallest id.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hiroba.analysis.model import id_key, rounded
from hiroba.analysis.vectors import SimilarityIndex, tfidf

__all__ = ["Unit", "GroupParams", "find_groups"]


@dataclass(frozen=True)
class Unit:
    """A distinct opinion: its id (the representative's), the ids it stands for, its
    campaign id if any, and its content words."""

    id: str
    member_ids: tuple[str, ...]
    campaign_id: str | None
    words: tuple[str, ...]


@dataclass(frozen=True)
class GroupParams:
    """Thresholds of same-intent grouping."""

    threshold: float = 0.15
    max_df: float = 0.3
    n_terms: int = 5
    max_neighbours: int = 200


def _shared_terms(x: Any, vocab: list[str], a: int, b: int, n: int) -> list[str]:
    # straight from the CSR arrays (scipy row slicing costs about a millisecond per call)
    pa, pb = x.indptr[a], x.indptr[b]
    ia, ib = x.indices[pa : x.indptr[a + 1]], x.indices[pb : x.indptr[b + 1]]
    common, ka, kb = np.intersect1d(ia, ib, assume_unique=True, return_indices=True)
    if common.size == 0:
        return []
    weight = x.data[pa + ka] * x.data[pb + kb]
    order = sorted(range(common.size), key=lambda i: (-round(float(weight[i]), 9), vocab[common[i]]))
    return [vocab[common[i]] for i in order[:n]]


def find_groups(
    units: Sequence[Unit], params: GroupParams | None = None, *, id_order: Callable[[str], Any] | None = None
) -> tuple[list[dict[str, Any]], list[str]]:
    """Group ``units``; returns ``(groups, ungrouped_ids)``.

    Each group: ``id`` (``g1``…), ``size`` (opinions), ``terms`` (label), ``centre_id``,
    ``member_ids`` (every opinion id, sorted), ``units`` (per distinct opinion: ``id``,
    ``campaign_id``, ``size``, ``similarity`` to the centre, ``shared_terms`` with it).
    Units with no neighbour are listed in ``ungrouped_ids`` (their opinion ids).
    """
    params = params or GroupParams()
    key = id_order or id_key
    if not units:
        return [], []
    x, vocab = tfidf([list(u.words) for u in units], max_df=params.max_df)
    # A unit's place in the visiting order only needs its number of neighbours (capped
    # like its list); the neighbour lists themselves are only needed for the units that
    # are visited unassigned, so they are computed on demand (exactly the values a full
    # neighbour table would hold: see SimilarityIndex).
    if x.shape[1]:
        index = SimilarityIndex(x, params.threshold)
        count = index.counts(params.max_neighbours).tolist()
    else:
        count = [0] * len(units)
    order = sorted(range(len(units)), key=lambda i: (-count[i], key(units[i].id)))
    assigned = [-1] * len(units)
    stars: list[tuple[int, list[tuple[int, float]]]] = []
    for c in order:
        if assigned[c] >= 0 or not count[c]:
            continue
        members = [(m, s) for m, s in index.top(c, params.max_neighbours) if assigned[m] < 0]
        if not members:
            continue
        g = len(stars)
        assigned[c] = g
        for m, _ in members:
            assigned[m] = g
        stars.append((c, members))

    built: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    for c, members in stars:
        idx = [c] + [m for m, _ in members]
        centroid = np.asarray(x[idx].mean(axis=0)).ravel()
        top = sorted(np.flatnonzero(centroid).tolist(), key=lambda j: (-round(float(centroid[j]), 9), vocab[j]))
        unit_rows: list[dict[str, Any]] = [{"id": units[c].id, "campaign_id": units[c].campaign_id, "size": len(units[c].member_ids),
                      "similarity": 1.0, "shared_terms": []}]
        for m, s in sorted(members, key=lambda ms: key(units[ms[0]].id)):
            unit_rows.append({
                "id": units[m].id,
                "campaign_id": units[m].campaign_id,
                "size": len(units[m].member_ids),
                "similarity": rounded(s),
                "shared_terms": _shared_terms(x, vocab, c, m, params.n_terms),
            })
        ids = sorted([i for k in idx for i in units[k].member_ids], key=key)
        df = Counter(w for k in idx for w in set(units[k].words))
        entry = {
            "size": len(ids),
            "terms": [vocab[j] for j in top[: params.n_terms]],
            "centre_id": units[c].id,
            "member_ids": ids,
            "units": unit_rows,
            "evidence": {
                "threshold": params.threshold,
                "common_terms": [w for w, n in sorted(df.items(), key=lambda kv: (-kv[1], kv[0])) if n >= 2][
                    : params.n_terms * 2
                ],
            },
        }
        built.append(((-len(ids), key(ids[0])), entry))
    built.sort(key=lambda b: b[0])
    groups = [{"id": f"g{n}", **e} for n, (_, e) in enumerate(built, 1)]
    ungrouped = sorted([i for k, u in enumerate(units) if assigned[k] < 0 for i in u.member_ids], key=key)
    return groups, ungrouped
