"""The analysis report: one function from opinions to a JSON-ready dict."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from hiroba.analysis.campaigns import CampaignParams, collapse_exact, find_campaigns
from hiroba.analysis.groups import GroupParams, Unit, find_groups
from hiroba.analysis.model import Opinion, PastItem, Progress, Section, id_key
from hiroba.analysis.pii import _resolve, find_structured
from hiroba.analysis.sections import SectionParams, assign_sections
from hiroba.analysis.signals import SignalParams, find_signals
from hiroba.analysis.suggest import SuggestParams, suggest_answers
from hiroba.analysis.tokenize import SentenceCache

__all__ = ["Params", "analyze", "dumps", "REPORT_VERSION"]

REPORT_VERSION = 1


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


def analyze(
    opinions: Sequence[Opinion],
    *,
    sections: Sequence[Section] | None = None,
    past: Sequence[PastItem] | None = None,
    params: Params | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Analyse ``opinions`` and return the report (a JSON-ready dict; see ``docs/analysis.md``).

    Deterministic: the same input gives an equal report, and :func:`dumps` of it gives
    identical bytes. ``progress(stage, done, total)`` is called as work proceeds.
    """
    params = params or Params()
    report_progress = progress or _noop
    ids = [o.id for o in opinions]
    texts = [o.text for o in opinions]
    n = len(opinions)

    report_progress("normalize", 0, n)
    dedup = collapse_exact(texts)
    report_progress("normalize", n, n)

    report_progress("campaigns", 0, len(dedup.texts))
    campaigns, dedup, rep_of = find_campaigns(ids, texts, params.campaigns, dedup)
    report_progress("campaigns", len(dedup.texts), len(dedup.texts))

    cache = SentenceCache()
    # units: one per campaign (its representative) and each distinct text outside campaigns
    rep_ids = {c["representative_id"]: c for c in campaigns}
    unit_members: dict[int, list[int]] = {}
    for d in range(len(dedup.texts)):
        r = rep_of.get(d, d)
        unit_members.setdefault(r, []).extend(dedup.members[d])
    unit_keys = sorted(unit_members, key=lambda d: id_key(ids[min(dedup.members[d], key=lambda i: id_key(ids[i]))]))
    units: list[Unit] = []
    unit_texts: list[str] = []
    for k, d in enumerate(unit_keys):
        first = min(dedup.members[d], key=lambda i: id_key(ids[i]))
        uid = ids[first]
        camp = rep_ids.get(uid)
        units.append(Unit(uid, tuple(ids[i] for i in unit_members[d]), camp["id"] if camp else None,
                          tuple(cache.words(texts[first]))))
        unit_texts.append(texts[first])
        if k % 1000 == 0:
            report_progress("groups", k, len(unit_keys))
    groups, ungrouped = find_groups(units, params.groups)
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
    if past:
        report_progress("suggestions", 0, len(units))
        pw = [cache.words(p.opinion) for p in past]
        sugg = suggest_answers([u.words for u in units], past, pw, params.suggest)
        for u, s in zip(units, sugg, strict=True):
            for i in u.member_ids:
                suggestion_map[i] = s
        report_progress("suggestions", len(units), len(units))

    pii_map: dict[str, Any] = {}
    counts: dict[str, int] = {}
    seen: dict[str, list[dict[str, Any]]] = {}
    step = max(1, n // 100)
    for k, (oid, text) in enumerate(zip(ids, texts, strict=True)):
        spans = seen.get(text)
        if spans is None:
            found = find_structured(text)
            if params.person_names:
                found.extend(cache.names(text))
            spans = seen[text] = _resolve(found)
        if spans:
            pii_map[oid] = spans
            for s in spans:
                counts[s["kind"]] = counts.get(s["kind"], 0) + 1
        if k % step == 0:
            report_progress("pii", k, n)
    seen.clear()
    report_progress("pii", n, n)

    report_progress("signals", 0, n)
    signals = find_signals(opinions, params.signals)
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
