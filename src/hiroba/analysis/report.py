"""The analysis report: one function from opinions to a JSON-ready dict."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from hiroba.analysis import parallel
from hiroba.analysis.campaigns import CampaignParams, collapse_exact, find_campaigns
from hiroba.analysis.groups import GroupParams, Unit, find_groups
from hiroba.analysis.model import Opinion, PastItem, Progress, Section, id_rank
from hiroba.analysis.pii import Span, _resolve, find_structured
from hiroba.analysis.sections import SectionParams, assign_sections
from hiroba.analysis.signals import SignalParams, find_signals
from hiroba.analysis.suggest import SuggestParams, suggest
from hiroba.analysis.tokenize import NameSpan, SentenceCache, names_of_pieces, pieces

__all__ = ["Params", "analyze", "dumps", "REPORT_VERSION"]

REPORT_VERSION = 2  # 2: signals per submission, suggestions_withheld


@dataclass(frozen=True)
class Params:
    """All thresholds of the report (every one documented in ``docs/analysis.md``)."""

    campaigns: CampaignParams = field(default_factory=CampaignParams)
    groups: GroupParams = field(default_factory=GroupParams)
    sections: SectionParams = field(default_factory=SectionParams)
    suggest: SuggestParams = field(default_factory=SuggestParams)
    signals: SignalParams = field(default_factory=SignalParams)
    #: detect person names with Sudachi (costs one tokenisation per distinct sentence)
    person_names: bool = True


def _noop(stage: str, done: int, total: int) -> None:
    return None


def _scaled(progress: Progress, stage: str, total: int, lo: float = 0.0, hi: float = 1.0) -> Any:
    """A ``done(k, of)`` callback reporting ``stage`` progress between ``lo`` and ``hi`` of
    ``total`` (a stage made of several parallel passes still counts up to ``total``)."""

    def done(k: int, of: int) -> None:
        progress(stage, int(total * (lo + (hi - lo) * (k / of if of else 1.0))), total)

    return done


def _missing_chunk(state: tuple[list[str], SentenceCache], chunk: tuple[int, int]) -> list[str]:
    """Worker: the distinct pieces of ``raw[a:b]`` not in the (inherited) cache."""
    raw, cache = state
    known = cache.known()
    seen: dict[str, None] = {}
    for k in range(*chunk):
        for _, p in pieces(raw[k]):
            if p not in known:
                seen[p] = None
    return list(seen)


def _pii_chunk(
    state: tuple[list[str], dict[str, tuple[NameSpan, ...]]], chunk: tuple[int, int]
) -> list[tuple[int, list[Span]]]:
    """Worker: resolved spans ``(k, spans)`` of each text ``raw[k]`` that has any: the
    structured kinds plus the names of its pieces (``named``: piece → name spans)."""
    raw, named = state
    out: list[tuple[int, list[Span]]] = []
    for k in range(*chunk):
        text = raw[k]
        found = find_structured(text)
        if named:
            for base, p in pieces(text):
                hit = named.get(p)
                if hit:
                    found.extend((base + x, base + y, kind) for x, y, kind in hit)
        if found:
            out.append((k, _resolve(found)))
    return out


def analyze(
    opinions: Sequence[Opinion],
    *,
    sections: Sequence[Section] | None = None,
    past: Sequence[PastItem] | None = None,
    params: Params | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
) -> dict[str, Any]:
    """Analyse ``opinions`` and return the report (a JSON-ready dict; see ``docs/analysis.md``).

    Deterministic: the same input gives an equal report, and :func:`dumps` of it gives
    identical bytes. ``progress(stage, done, total)`` is called as work proceeds.
    ``workers``: processes for the per-text stages (fingerprints, Sudachi, personal
    information); default two (fewer on a smaller machine). The report does not depend on it.
    """
    params = params or Params()
    report_progress = progress or _noop
    nw = parallel.default_workers() if workers is None else max(1, workers)
    n = len(opinions)
    report_progress("normalize", 0, n)
    ids = [o.id for o in opinions]
    texts = [o.text for o in opinions]
    rank = id_rank(ids)  # natural order of the ids, computed once
    order = rank.__getitem__
    dedup = collapse_exact(texts, workers=nw, done=_scaled(report_progress, "normalize", n))
    report_progress("normalize", n, n)

    report_progress("campaigns", 0, len(dedup.texts))
    campaigns, dedup, rep_of = find_campaigns(ids, texts, params.campaigns, dedup, workers=nw, id_order=order)
    report_progress("campaigns", len(dedup.texts), len(dedup.texts))

    cache = SentenceCache(workers=nw)
    # units: one per campaign (its representative) and each distinct text outside campaigns
    rep_ids = {c["representative_id"]: c for c in campaigns}
    unit_members: dict[int, list[int]] = {}
    for d in range(len(dedup.texts)):
        r = rep_of.get(d, d)
        unit_members.setdefault(r, []).extend(dedup.members[d])
    first_of = {d: min(dedup.members[d], key=lambda i: rank[ids[i]]) for d in unit_members}
    unit_keys = sorted(unit_members, key=lambda d: rank[ids[first_of[d]]])
    unit_texts = [texts[first_of[d]] for d in unit_keys]
    extra = [s.title + "\n" + s.text for s in sections or ()] + [t for p in past or () for t in (p.opinion, p.answer)]
    report_progress("groups", 0, len(unit_keys))
    cache.fill(cache.missing(unit_texts + extra), done=_scaled(report_progress, "groups", len(unit_keys), 0.0, 0.9))
    units: list[Unit] = []
    for d, text in zip(unit_keys, unit_texts, strict=True):
        uid = ids[first_of[d]]
        camp = rep_ids.get(uid)
        units.append(Unit(uid, tuple(ids[i] for i in unit_members[d]), camp["id"] if camp else None,
                          tuple(cache.words(text))))
    del unit_members
    groups, ungrouped = find_groups(units, params.groups, id_order=order)
    report_progress("groups", len(unit_keys), len(unit_keys))

    section_map: dict[str, Any] = {}
    if sections:
        report_progress("sections", 0, len(units))
        sw = [cache.words(s.title + "\n" + s.text) for s in sections]
        assigned = assign_sections(unit_texts, [u.words for u in units], sections, sw, params.sections)
        for u, a in zip(units, assigned, strict=True):
            for i in u.member_ids:
                section_map[i] = a
        report_progress("sections", len(units), len(units))

    suggestion_map: dict[str, Any] = {}
    withheld_map: dict[str, Any] = {}
    if past:
        report_progress("suggestions", 0, len(units))
        pw = [cache.words(p.opinion) for p in past]
        aw = [cache.words(p.answer) for p in past]
        sugg, held = suggest([u.words for u in units], past, pw, params.suggest, answer_words=aw)
        for u, s, h in zip(units, sugg, held, strict=True):
            for i in u.member_ids:
                suggestion_map[i] = s
                if h is not None:
                    withheld_map[i] = h
        report_progress("suggestions", len(units), len(units))

    # Personal information, on each distinct original text: (1) the sentence pieces not
    # tokenised yet, (2) Sudachi names of those pieces, (3) structured kinds + names, resolved.
    report_progress("pii", 0, n)
    raw = dedup.raw
    size = max(1000, -(-len(raw) // 100))
    chunks = parallel.ranges(len(raw), size)
    named: dict[str, tuple[NameSpan, ...]] = {}
    if params.person_names:
        parts = parallel.run(_missing_chunk, (raw, cache), chunks, workers=nw, items=len(raw),
                             done=lambda k: report_progress("pii", n * min(k * size, len(raw)) // max(1, len(raw)) // 10, n))
        todo = list(dict.fromkeys(p for part in parts for p in part))
        del parts
        named = {p: info[0] for p, info in cache.items() if info[0]}
        named.update(names_of_pieces(todo, nw, done=_scaled(report_progress, "pii", n, 0.1, 0.8)))
        del todo
    del cache
    found = parallel.run(_pii_chunk, (raw, named), chunks, workers=nw, items=len(raw),
                         done=lambda k: report_progress("pii", n * (8 * len(raw) + 2 * min(k * size, len(raw)))
                                                        // max(1, 10 * len(raw)), n))
    spans_of: dict[int, list[Span]] = {k: spans for part in found for k, spans in part}
    del found, named
    pii_map: dict[str, Any] = {}
    counts: dict[str, int] = {}
    if spans_of:
        for oid, r in zip(ids, dedup.raw_of, strict=True):
            spans = spans_of.get(r)
            if spans:
                pii_map[oid] = spans
                for sp in spans:
                    counts[sp["kind"]] = counts.get(sp["kind"], 0) + 1  # type: ignore[index,arg-type]
    report_progress("pii", n, n)

    report_progress("signals", 0, n)
    signals = find_signals(opinions, params.signals, id_order=order)
    report_progress("signals", n, n)

    in_campaigns = sum(c["size"] for c in campaigns)
    return {
        "version": REPORT_VERSION,
        "n_opinions": n,
        "n_distinct": len(units),
        "n_exact_distinct": len(dedup.texts),
        "n_in_campaigns": in_campaigns,
        "campaigns": campaigns,
        "groups": groups,
        "ungrouped_ids": ungrouped,
        "sections": section_map,
        "suggestions": suggestion_map,
        "suggestions_withheld": withheld_map,
        "pii": pii_map,
        "pii_counts": dict(sorted(counts.items())),
        "signals": signals,
        "params": _params_dict(params),
    }


def _params_dict(params: Params) -> dict[str, Any]:
    return asdict(params)


def dumps(report: dict[str, Any]) -> str:
    """Serialise a report: sorted keys, UTF-8 text (``ensure_ascii=False``), two-space
    indent, trailing newline. Floats are already rounded by the analysis."""
    return json.dumps(report, ensure_ascii=False, sort_keys=True, indent=2) + "\n"
