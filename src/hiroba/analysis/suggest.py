"""Answer suggestions from answered opinions of past consultations.

Past opinions and current opinions share one TF-IDF space (Sudachi content words). A past
item's vector holds the words of its opinion *and of the answer the ward gave*: the answer
says how the ward read the opinion (「個別事業に関わる提案内容」, 「生成AI活用方針」, 「リモートワーク」),
so an opinion that shares that vocabulary is likely to deserve a similar answer. (On the
seed's leave-one-out this turns 3/12 exact answers in the top 3 into 4/12, the ceiling.) For
each current opinion, past items are scored by cosine similarity; items with the same
answer (after normalisation) are merged — a ward reuses standard answers such as
「個別事業に関わる提案内容については担当部署に共有し…」, and three copies of one answer
are no help to a clerk — and the ``k`` best *distinct answers* are returned with the most
similar past item as ``past_id``, every past item giving that answer, the score and the
terms the opinion shares with that item.

Only answers scoring at least ``min_score`` are suggested: below it the evidence is a word or
two in common (「時間」「平日」) and the suggestion is as likely unrelated as not. The threshold
is calibrated on the seed consultation's leave-one-out and on opinions about other subjects
(``docs/analysis.md``, *Suggestions*). For an opinion with no suggestion, the best candidate
that was held back is reported (score, past item, shared terms), so the screen can say why
nothing is suggested.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hiroba.analysis.model import PastItem, id_key, rounded, sort_ids
from hiroba.analysis.normalize import fingerprint
from hiroba.analysis.vectors import tfidf

__all__ = ["SuggestParams", "suggest", "suggest_answers", "MIN_SCORE"]

#: The calibrated minimum score of a suggestion (docs/analysis.md, *Suggestions*: the threshold
#: that best separates the seed's leave-one-out hits from suggestions for unrelated opinions).
MIN_SCORE = 0.07


@dataclass(frozen=True)
class SuggestParams:
    """Number of suggestions and the minimum score of a suggestion."""

    k: int = 3
    min_score: float = MIN_SCORE
    #: score an answer by the summed similarity of every past item that gave it (a
    #: similarity-weighted vote) rather than by its single best item
    vote: bool = True
    n_terms: int = 5
    #: add the content words of each past item's answer to its vector (see the module docstring)
    answer_terms: bool = True


def _shared_terms(x: Any, vocab: list[str], i: int, j: int, n: int) -> list[str]:
    xi, xb = x.getrow(i), x.getrow(j)
    common = np.intersect1d(xi.indices, xb.indices)
    w = np.asarray(xi[:, common].toarray()).ravel() * np.asarray(xb[:, common].toarray()).ravel()
    order = sorted(range(common.size), key=lambda t: (-round(float(w[t]), 9), vocab[common[t]]))
    return [vocab[common[t]] for t in order[:n]]


def suggest(
    words: Sequence[Sequence[str]],
    past: Sequence[PastItem],
    past_words: Sequence[Sequence[str]],
    params: SuggestParams | None = None,
    answer_words: Sequence[Sequence[str]] | None = None,
) -> tuple[list[list[dict[str, Any]]], list[dict[str, Any] | None]]:
    """For each current opinion (its content words): up to ``k`` suggestions
    ``{"past_id", "past_ids", "score", "answer", "shared_terms"}``, best first, scoring at
    least ``min_score``; and, for an opinion left without any, why: ``{"best_score",
    "past_id", "shared_terms", "threshold"}`` of the best candidate held back (``past_id``
    ``None`` when no past item shares a word with it), else ``None``.
    ``answer_words``: content words of each past item's answer (used when ``params.answer_terms``)."""
    params = params or SuggestParams()
    if not past:
        return [[] for _ in words], [None for _ in words]
    docs = [list(w) for w in past_words]
    if params.answer_terms and answer_words is not None:
        docs = [d + list(a) for d, a in zip(docs, answer_words, strict=True)]
    x, vocab = tfidf(docs + [list(w) for w in words])
    npast = len(past)
    sims = (x[npast:] @ x[:npast].T).toarray() if x.shape[1] else np.zeros((len(words), npast))
    answer_key = [fingerprint(p.answer) for p in past]
    by_answer: dict[str, list[int]] = {}
    for j, key in enumerate(answer_key):
        by_answer.setdefault(key, []).append(j)
    out: list[list[dict[str, Any]]] = []
    withheld: list[dict[str, Any] | None] = []
    for i in range(len(words)):
        row = sims[i]
        cands = []
        for js in by_answer.values():
            best = min(js, key=lambda j: (-round(float(row[j]), 9), id_key(past[j].id)))
            score = float(row[js].sum()) if params.vote else float(row[best])
            cands.append((-round(score, 9), id_key(past[best].id), best, js))
        cands.sort(key=lambda c: (c[0], c[1]))
        rows = []
        for neg, _, best, js in cands[: params.k]:
            if -neg < params.min_score:
                continue
            rows.append({
                "past_id": past[best].id,
                "past_ids": sort_ids([past[j].id for j in js]),
                "score": rounded(-neg),
                "answer": past[best].answer,
                "shared_terms": _shared_terms(x, vocab, npast + i, best, params.n_terms),
            })
        out.append(rows)
        if rows:
            withheld.append(None)
        else:
            neg, _, best, _ = cands[0]
            shared = -neg > 0
            withheld.append({
                "best_score": rounded(-neg),
                "past_id": past[best].id if shared else None,
                "shared_terms": _shared_terms(x, vocab, npast + i, best, params.n_terms) if shared else [],
                "threshold": params.min_score,
            })
    return out, withheld


def suggest_answers(
    words: Sequence[Sequence[str]],
    past: Sequence[PastItem],
    past_words: Sequence[Sequence[str]],
    params: SuggestParams | None = None,
    answer_words: Sequence[Sequence[str]] | None = None,
) -> list[list[dict[str, Any]]]:
    """The suggestions of :func:`suggest` alone."""
    return suggest(words, past, past_words, params, answer_words)[0]
