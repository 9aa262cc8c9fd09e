"""Assignment of opinions to the sections of the draft.

Evidence, strongest first:

* ``title`` — the section heading (or its leading label such as ``重点方針1``) appears in
  the opinion (after normalisation, spaces removed); score 1.0;
* ``page`` — the opinion cites a page (``P39``, ``p.46``, ``39ページ``, ``素案25p``) inside the
  section's ``pages`` range; score 1.0;
* ``similarity`` — TF-IDF cosine between the opinion and the section's title and text.

An opinion gets every section with explicit evidence, plus the most similar section when
its cosine is at least ``min_similarity`` (and others within ``relative`` of it), at most
``max_sections`` in all, best first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hiroba.analysis.model import Section, id_key, rounded
from hiroba.analysis.normalize import fingerprint
from hiroba.analysis.vectors import tfidf

__all__ = ["SectionParams", "assign_sections", "page_mentions"]

_PAGE = re.compile(r"(?:(?<![a-z])p\.?\s?([0-9]{1,3})(?![0-9])|([0-9]{1,3})\s?(?:ページ|頁|p(?![a-z])))")


@dataclass(frozen=True)
class SectionParams:
    """Thresholds of section assignment."""

    min_similarity: float = 0.05
    relative: float = 0.8
    max_sections: int = 3


def page_mentions(text: str) -> list[int]:
    """Page numbers cited in ``text`` (``P39``, ``p.46``, ``39ページ``, ``25p``), in order."""
    fp = fingerprint(text)
    return [int(m.group(1) or m.group(2)) for m in _PAGE.finditer(fp)]


def _heading_keys(title: str) -> list[str]:
    keys = [fingerprint(title)]
    first = re.split(r"[\s　:：「」（）()]", title.strip(), maxsplit=1)[0]
    if len(first) >= 3 and fingerprint(first) not in keys:
        keys.append(fingerprint(first))
    return [k for k in keys if len(k) >= 2]


def assign_sections(
    texts: Sequence[str],
    words: Sequence[Sequence[str]],
    sections: Sequence[Section],
    section_words: Sequence[Sequence[str]],
    params: SectionParams | None = None,
) -> list[list[dict[str, Any]]]:
    """For each text, the assigned sections: ``[{"section_id", "score", "reasons"}]``."""
    params = params or SectionParams()
    if not sections:
        return [[] for _ in texts]
    x, _ = tfidf([list(w) for w in section_words] + [list(w) for w in words])
    ns = len(sections)
    sims = (x[ns:] @ x[:ns].T).toarray() if x.shape[1] else np.zeros((len(texts), ns))
    keys = [_heading_keys(s.title) for s in sections]
    out: list[list[dict[str, Any]]] = []
    for i, text in enumerate(texts):
        fp = fingerprint(text)
        pages = set(page_mentions(text))
        found: dict[int, tuple[float, list[str]]] = {}
        for j, sec in enumerate(sections):
            reasons: list[str] = []
            if any(k in fp for k in keys[j]):
                reasons.append("title")
            if sec.pages and any(sec.pages[0] <= p <= sec.pages[1] for p in pages):
                reasons.append("page")
            if reasons:
                found[j] = (1.0, reasons)
        row = sims[i]
        best = float(row.max()) if ns else 0.0
        if best >= params.min_similarity:
            for j in range(ns):
                if row[j] >= best * params.relative and row[j] >= params.min_similarity:
                    score, reasons = found.get(j, (0.0, []))
                    found[j] = (max(score, float(row[j])), reasons + ["similarity"])
        ranked = sorted(found.items(), key=lambda kv: (-round(kv[1][0], 9), id_key(sections[kv[0]].id)))
        out.append(
            [{"section_id": sections[j].id, "score": rounded(s), "reasons": r} for j, (s, r) in ranked][
                : params.max_sections
            ]
        )
    return out
