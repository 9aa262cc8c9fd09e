"""Exact duplicates and near-duplicate campaigns (form letters).

Pipeline:

1. **Exact duplicates**: texts with the same :func:`~hiroba.analysis.normalize.fingerprint`
   (normalised, whitespace removed, lower-cased) collapse into one *distinct text*. With
   96 % copies, everything after this step works on a few percent of the input.
2. **MinHash + LSH** over the distinct texts (:mod:`hiroba.analysis.minhash`): character
   5-gram shingles, 128 permutations, 32 bands of 4 rows (candidate threshold ≈ 0.42).
3. **Verification** of each candidate pair by estimated Jaccard similarity
   (≥ ``jaccard_threshold``, default 0.5) *or* estimated containment of the smaller text in
   the larger (≥ ``containment_threshold``, default 0.8, when the smaller has at least
   ``min_containment_shingles`` shingles) — the latter keeps a letter with an inserted
   paragraph in its campaign.
4. **Union-find** (connected components) over verified pairs.
5. A component is a **campaign** when it holds at least ``min_size`` submissions (default
   2: an identical text sent by two people is already worth a clerk's look).

Every campaign carries its evidence: the passages (sentences) of the representative
shared by the members with their share, passages the members added, and the similarity of
each member that is not an exact copy of the representative.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from hiroba.analysis import minhash, parallel
from hiroba.analysis.model import id_key, rounded
from hiroba.analysis.normalize import fingerprint

__all__ = ["CampaignParams", "Dedup", "collapse_exact", "near_duplicate_components", "find_campaigns"]


@dataclass(frozen=True)
class CampaignParams:
    """Thresholds of campaign detection (defaults documented in ``docs/analysis.md``)."""

    shingle_size: int = 5
    num_perm: int = 128
    bands: int = 32
    rows: int = 4
    jaccard_threshold: float = 0.5
    containment_threshold: float = 0.8
    min_containment_shingles: int = 100
    min_size: int = 2
    max_passages: int = 5


@dataclass
class Dedup:
    """Result of exact-duplicate collapse.

    ``texts[d]`` is the fingerprint of distinct text ``d``; ``members[d]`` the input
    indices having it (ascending); ``of[i]`` the distinct text of input ``i``. ``raw`` are
    the distinct *original* texts (first-seen order) and ``raw_of[i]`` the one of input
    ``i``: later per-text stages (personal information) work on those.
    """

    texts: list[str]
    members: list[list[int]]
    of: list[int] = field(default_factory=list)
    raw: list[str] = field(default_factory=list)
    raw_of: list[int] = field(default_factory=list)


def _fingerprint_chunk(texts: Sequence[str], chunk: tuple[int, int]) -> list[str]:
    a, b = chunk
    return [fingerprint(texts[k]) for k in range(a, b)]


def collapse_exact(
    texts: Sequence[str], *, workers: int = 1, done: Callable[[int, int], None] | None = None
) -> Dedup:
    """Group input texts by fingerprint (distinct texts in first-seen order).

    Each distinct original text is fingerprinted once (copies of a form letter are often
    byte-identical), in ``workers`` processes when there are many; ``done(n, total)`` reports
    how many of the ``total`` distinct originals are finished.
    """
    raw_index: dict[str, int] = {}
    setdefault = raw_index.setdefault
    raw_of = [setdefault(t, len(raw_index)) for t in texts]
    raw = list(raw_index)
    del raw_index
    size = max(1000, -(-len(raw) // 100))
    chunks = parallel.ranges(len(raw), size)
    parts = parallel.run(_fingerprint_chunk, raw, chunks, workers=workers, items=len(raw),
                         done=(lambda k: done(min(len(raw), k * size), len(raw))) if done else None)
    index: dict[str, int] = {}
    fp_setdefault = index.setdefault
    d_of_raw = [fp_setdefault(fp, len(index)) for part in parts for fp in part]
    del parts
    members: list[list[int]] = [[] for _ in range(len(index))]
    of = [d_of_raw[r] for r in raw_of]
    for i, d in enumerate(of):
        members[d].append(i)
    return Dedup(list(index), members, of, raw, raw_of)


@dataclass
class NearDup:
    """Near-duplicate structure over distinct texts."""

    table: minhash.SentenceTable
    sig: np.ndarray
    sizes: np.ndarray
    labels: np.ndarray  # component label of each distinct text


def near_duplicate_components(texts: list[str], params: CampaignParams, *, workers: int = 1) -> NearDup:
    """Connected components of distinct ``texts`` under the verified near-duplicate relation."""
    table = minhash.build_sentence_table(texts)
    sig, sizes = minhash.signatures(table, params.shingle_size, params.num_perm, workers=workers)
    n = len(texts)
    a, b = minhash.lsh_candidate_pairs(sig, params.bands, params.rows)
    if a.size:
        jac = minhash.estimate_jaccard(sig, a, b)
        inter = jac / (1.0 + jac) * (sizes[a] + sizes[b])
        small = np.minimum(sizes[a], sizes[b])
        cont = inter / np.maximum(small, 1)
        ok = jac >= params.jaccard_threshold
        # The containment estimate (from J and the shingle counts) only preselects pairs;
        # it overestimates when a text repeats phrases, so those pairs are checked exactly.
        maybe = ~ok & (cont >= params.containment_threshold * 0.9) & (small >= params.min_containment_shingles)
        for i in np.flatnonzero(maybe).tolist():
            c = minhash.containment(table, table.hashes, table.sptr,  # type: ignore[arg-type]  # set above
                                     int(a[i]), int(b[i]))
            ok[i] = c >= params.containment_threshold
        a, b = a[ok], b[ok]
    graph = coo_matrix((np.ones(a.shape[0], np.int8), (a, b)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return NearDup(table, sig, sizes, labels)


def _pair_jaccard(nd: NearDup, rep: int, others: np.ndarray) -> np.ndarray:
    reps = np.full(others.shape[0], rep, np.int64)
    return minhash.estimate_jaccard(nd.sig, reps, others)


def _choose_representative(
    nd: NearDup, dedup: Dedup, comp: list[int], ids: Sequence[str], key: Callable[[str], Any] = id_key
) -> int:
    """Most copied distinct text; ties by mean similarity to (up to 64) members; then id."""
    best_mult = max(len(dedup.members[d]) for d in comp)
    tied = [d for d in comp if len(dedup.members[d]) == best_mult]
    if len(tied) == 1:
        return tied[0]
    sample = np.asarray(comp[:64], np.int64)
    scored = []
    for d in tied[:64]:
        jac = _pair_jaccard(nd, d, sample)
        scored.append((-round(float(jac.mean()), 6), key(ids[dedup.members[d][0]]), d))
    return min(scored)[2]


def find_campaigns(
    ids: Sequence[str],
    texts: Sequence[str],
    params: CampaignParams | None = None,
    dedup: Dedup | None = None,
    *,
    workers: int = 1,
    id_order: Callable[[str], Any] | None = None,
) -> tuple[list[dict[str, Any]], Dedup, dict[int, int]]:
    """Detect campaigns among ``texts`` (parallel to ``ids``).

    Returns ``(campaigns, dedup, rep_of)``: the report entries, ordered by size (desc) then
    smallest member id, with ids ``c1, c2, ...``; the exact-duplicate structure; and, for
    every distinct text in a campaign, the distinct text representing it. ``id_order``: a
    sort key equivalent to :func:`~hiroba.analysis.model.id_key` (e.g. a precomputed rank).
    """
    params = params or CampaignParams()
    key = id_order or id_key
    dedup = dedup or collapse_exact(texts, workers=workers)
    if not dedup.texts:
        return [], dedup, {}
    nd = near_duplicate_components(dedup.texts, params, workers=workers)
    comps: dict[int, list[int]] = {}
    for d, lab in enumerate(nd.labels.tolist()):
        comps.setdefault(lab, []).append(d)

    found: list[tuple[tuple[Any, ...], dict[str, Any], list[int], int]] = []
    for comp in comps.values():
        size = sum(len(dedup.members[d]) for d in comp)
        if size < params.min_size:
            continue
        rep = _choose_representative(nd, dedup, comp, ids, key)
        member_ids = sorted((ids[i] for d in comp for i in dedup.members[d]), key=key)
        evidence = _evidence(nd, dedup, comp, rep, ids, params, key)
        entry = {
            "size": size,
            "representative_id": min((ids[i] for i in dedup.members[rep]), key=key),
            "member_ids": member_ids,
            "evidence": evidence,
        }
        found.append(((-size, key(member_ids[0])), entry, comp, rep))
    found.sort(key=lambda x: x[0])
    campaigns: list[dict[str, Any]] = []
    rep_of: dict[int, int] = {}
    for n, (_, entry, comp, rep) in enumerate(found, 1):
        campaigns.append({"id": f"c{n}", **entry})
        for d in comp:
            rep_of[d] = rep
    return campaigns, dedup, rep_of


def _ranges(lengths: np.ndarray) -> np.ndarray:
    """``concatenate([arange(n) for n in lengths])`` without a Python loop."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, np.int64)
    starts = np.cumsum(lengths) - lengths
    return np.arange(total, dtype=np.int64) - np.repeat(starts, lengths)


def _evidence(
    nd: NearDup,
    dedup: Dedup,
    comp: list[int],
    rep: int,
    ids: Sequence[str],
    params: CampaignParams,
    key: Callable[[str], Any] = id_key,
) -> dict[str, Any]:
    table = nd.table
    ptr = table.text_ptr
    rep_sids = table.text_sids[ptr[rep] : ptr[rep + 1]].tolist()
    rep_set = set(rep_sids)
    shared: Counter[int] = Counter()
    added: Counter[int] = Counter()
    size = 0
    # the campaign's sentence ids in one slice per member, as Python ints in one call
    comp_arr = np.asarray(comp, np.int64)
    starts, ends = ptr[comp_arr], ptr[comp_arr + 1]
    flat = table.text_sids[np.repeat(starts, ends - starts) + _ranges(ends - starts)].tolist()
    bounds = np.concatenate([[0], np.cumsum(ends - starts)]).tolist()
    for k, d in enumerate(comp):
        mult = len(dedup.members[d])
        size += mult
        sids = set(flat[bounds[k] : bounds[k + 1]])
        for s in sids & rep_set:
            shared[s] += mult
        for s in sids - rep_set:
            added[s] += mult
    order = {s: i for i, s in reversed(list(enumerate(rep_sids)))}
    top_shared = sorted(shared, key=lambda s: (-shared[s], order[s]))[: params.max_passages]
    top_added = sorted(added, key=lambda s: (-added[s], table.sentences[s]))[: params.max_passages]

    others = np.asarray([d for d in comp if d != rep], np.int64)
    scores: dict[str, dict[str, float]] = {}
    jac_all: list[float] = []
    if others.size:
        jac = _pair_jaccard(nd, rep, others)
        t = nd.table
        for d, j in zip(others.tolist(), jac.tolist(), strict=True):
            score = {"jaccard": rounded(j)}
            if j < params.jaccard_threshold:  # joined through containment or another member
                score["containment"] = rounded(minhash.containment(t, t.hashes, t.sptr, rep, d))  # type: ignore[arg-type]
            for i in dedup.members[d]:
                scores[ids[i]] = score
                jac_all.append(j)
    exact = len(dedup.members[rep])
    jac_all.extend([1.0] * exact)
    return {
        "exact_copies": exact,
        "near_copies": size - exact,
        "similarity": {
            "min": rounded(min(jac_all)),
            "mean": rounded(sum(jac_all) / len(jac_all)),
            "max": rounded(max(jac_all)),
        },
        "shared_passages": [
            {"text": table.sentences[s], "share": rounded(shared[s] / size)} for s in top_shared
        ],
        "added_passages": [
            {"text": table.sentences[s], "share": rounded(added[s] / size)} for s in top_added
        ],
        "member_scores": dict(sorted(scores.items(), key=lambda kv: key(kv[0]))),
    }
