"""Reads of the opinion analysis: the latest runs of a case, its campaigns and same-intent
groups with their evidence, what a run says about one item, and the submission signals as the
staff screen shows them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy, pgettext

from hiroba.consultations.models import AnalysisRun, Case, Item
from hiroba.consultations.opinion_analysis.adapter import analysis_items, input_digest
from hiroba.core.templatetags.hiroba import wareki

STAGE_LABELS = {
    "normalize": gettext_lazy("文面の正規化"),
    "campaigns": gettext_lazy("同じ文面の意見の検出"),
    "groups": gettext_lazy("同趣旨の意見のまとまりの検出"),
    "sections": gettext_lazy("該当箇所の推定"),
    "suggestions": gettext_lazy("過去の回答からの候補の検索"),
    "pii": gettext_lazy("個人情報の検出"),
    "signals": gettext_lazy("提出の傾向の確認"),
}


def latest_run(case: Case) -> AnalysisRun | None:
    """The newest run of the case, whatever its state (its report not loaded)."""
    return case.analysis_runs.defer("report").first()


def latest_finished_run(case: Case, *, with_report: bool = False) -> AnalysisRun | None:
    """The newest finished run: the one the screens show."""
    runs = case.analysis_runs.filter(state=AnalysisRun.State.DONE)
    return (runs if with_report else runs.defer("report")).first()


def is_outdated(run: AnalysisRun) -> bool:
    """The items have changed (added, excluded, withdrawn) since the run analysed them."""
    return run.input_digest != input_digest(analysis_items(run.case))


# --- campaigns and groups ----------------------------------------------------------------------


@dataclass
class Member:
    """An item of a campaign or group, with the evidence for it being there."""

    item: Item
    lead: bool = False  # the campaign's representative or the group's centre
    exact: bool = False  # identical to the representative after normalisation (campaigns)
    similarity: float | None = None  # estimated Jaccard (campaigns) or cosine to the centre (groups)
    containment: float | None = None
    shared_terms: list[str] = field(default_factory=list)


@dataclass
class Cluster:
    """A campaign (``kind="campaign"``) or a same-intent group (``"group"``) of a finished run."""

    kind: str
    key: str
    size: int
    lead: Item | None
    members: list[Member]
    evidence: dict[str, Any]
    terms: list[str] = field(default_factory=list)

    @property
    def items(self) -> list[Item]:
        return [m.item for m in self.members]

    @property
    def answered(self) -> int:
        return sum(1 for m in self.members if m.item.answer_id)

    @property
    def published_as_one_row(self) -> bool:
        """Every other member is published in the lead's row."""
        lead = self.lead
        return (
            lead is not None
            and len(self.members) > 1
            and all(m.item.represented_by_id == lead.pk for m in self.members if m.item.pk != lead.pk)
        )


KINDS = {"campaign": "campaigns", "group": "groups"}


def _member(kind: str, entry: dict[str, Any], item: Item, unit_of: dict[str, dict[str, Any]]) -> Member:
    oid = str(item.number)
    if kind == "campaign":
        score = entry["evidence"].get("member_scores", {}).get(oid)
        lead = oid == entry["representative_id"]
        return Member(
            item=item,
            lead=lead,
            exact=score is None and not lead,
            similarity=score["jaccard"] if score else None,
            containment=score.get("containment") if score else None,
        )
    unit = unit_of.get(oid, {})
    return Member(
        item=item,
        lead=oid == entry["centre_id"],
        similarity=unit.get("similarity"),
        shared_terms=list(unit.get("shared_terms", [])),
    )


def _units_by_member(entry: dict[str, Any], campaigns: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """A group's units ({id, campaign_id, similarity, shared_terms}) by member opinion id."""
    out: dict[str, dict[str, Any]] = {}
    for unit in entry.get("units", []):
        members = campaigns[unit["campaign_id"]]["member_ids"] if unit.get("campaign_id") in campaigns else [unit["id"]]
        for m in members:
            out[m] = unit
    return out


def _cluster(kind: str, entry: dict[str, Any], items: dict[str, Item], campaigns: dict[str, dict[str, Any]]) -> Cluster:
    unit_of = _units_by_member(entry, campaigns) if kind == "group" else {}
    members = [_member(kind, entry, items[m], unit_of) for m in entry["member_ids"] if m in items]
    lead_id = entry.get("representative_id") if kind == "campaign" else entry.get("centre_id")
    return Cluster(
        kind=kind,
        key=entry["id"],
        size=entry["size"],
        lead=items.get(lead_id or ""),
        members=members,
        evidence=entry.get("evidence", {}),
        terms=list(entry.get("terms", [])),
    )


def clusters(run: AnalysisRun, kind: str) -> list[Cluster]:
    """Every campaign or group of a finished run (its report loaded), with the case's items
    as they are now (one query for all of them)."""
    report = run.report or {}
    items = {
        str(i.number): i
        for i in run.case.items.only("id", "case_id", "number", "text", "answer_id", "represented_by_id").order_by(
            "number"
        )
    }
    campaigns = {c["id"]: c for c in report.get("campaigns", [])}
    return [_cluster(kind, entry, items, campaigns) for entry in report.get(KINDS[kind], [])]


def cluster(run: AnalysisRun, kind: str, key: str) -> Cluster | None:
    """One campaign or group, its members loaded with their answers (one query)."""
    if kind not in KINDS or run.report is None:
        return None
    entry = next((e for e in run.report.get(KINDS[kind], []) if e["id"] == key), None)
    if entry is None:
        return None
    rows = run.rows.filter(**{kind: key}).select_related("item__answer")
    items = {str(r.item.number): r.item for r in rows}
    campaigns = {c["id"]: c for c in run.report.get("campaigns", [])}
    return _cluster(kind, entry, items, campaigns)


# --- suggestions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Suggestions:
    """What a run stored for one item (`AnalysisRunItem.suggestions`): the suggested past answers,
    best first; and when there is none, why — ``past`` (how many past answers were compared;
    0: no other published case has answers) and ``withheld`` (the best candidate held back
    below the threshold: ``best_score``, ``past_id``, ``past_opinion``, ``shared_terms``,
    ``threshold``). Rows of runs before the threshold were a bare list of suggestions."""

    suggested: list[dict[str, Any]]
    past: int | None = None
    withheld: dict[str, Any] | None = None

    @classmethod
    def of(cls, stored: Any) -> Suggestions:
        if isinstance(stored, dict):
            return cls(list(stored.get("suggested", [])), stored.get("past"), stored.get("withheld"))
        return cls(list(stored or []))


def suggestions_of(run: AnalysisRun, item: Item) -> Suggestions:
    """What the run stored about suggestions for one item (one query)."""
    return Suggestions.of(run.rows.filter(item=item).values_list("suggestions", flat=True).first())


def suggestions_for(run: AnalysisRun, item: Item) -> list[dict[str, Any]]:
    """The past answers the run suggests for one item, best first."""
    return suggestions_of(run, item).suggested


@dataclass
class ItemFindings:
    """What the latest finished run says about one item (the item page)."""

    run: AnalysisRun
    campaign: str
    campaign_size: int
    group: str
    group_size: int
    suggestions: list[dict[str, Any]]
    #: why nothing is suggested (see `Suggestions`); ``None`` when something is
    no_suggestion: Suggestions | None = None


def item_findings(case: Case, item: Item) -> ItemFindings | None:
    """The item's campaign, group and suggested answers in the latest finished run (None if
    no run has finished, or the item was not analysed in it)."""
    run = latest_finished_run(case)
    row = run.rows.filter(item=item).first() if run else None
    if run is None or row is None:
        return None
    stored = Suggestions.of(row.suggestions)
    return ItemFindings(
        run=run,
        campaign=row.campaign,
        group=row.group,
        suggestions=stored.suggested,
        no_suggestion=None if stored.suggested else stored,
        campaign_size=run.rows.filter(campaign=row.campaign).count() if row.campaign else 0,
        group_size=run.rows.filter(group=row.group).count() if row.group else 0,
    )


# --- submission signals ------------------------------------------------------------------------


FIELD_LABELS = {"name": gettext_lazy("氏名"), "email": gettext_lazy("メールアドレス"), "address": gettext_lazy("住所")}


def _moment(value: str) -> str:
    """An instant of the report (ISO 8601) as the ward writes it, to the second, Asia/Tokyo:
    令和7年1月20日 (2025年1月20日) 23:59:59."""
    from django.utils import timezone

    local = timezone.localtime(dt.datetime.fromisoformat(value))
    return f"{wareki(local)} {local:%H:%M:%S}"


@dataclass(frozen=True)
class Signals:
    """The report's submission signals, ready for the screen: each finding once, times in 和暦."""

    bursts: list[dict[str, Any]]
    shared_identities: list[dict[str, Any]]
    disposable_emails: list[dict[str, Any]]
    n_submissions: int
    without_time: int
    #: the run predates submission-based signals (report version 1): not shown, run again
    outdated: bool = False

    @property
    def any(self) -> bool:
        return bool(self.bursts or self.shared_identities or self.disposable_emails)


def signals(run: AnalysisRun) -> Signals:
    """The submission signals of a finished run (its report loaded)."""
    report = run.report or {}
    raw = report.get("signals") or {}
    if report.get("version", 1) < 2:
        return Signals([], [], [], 0, 0, outdated=bool(raw.get("bursts") or raw.get("shared_identities")
                                                      or raw.get("disposable_emails")))
    bursts = [
        {**b, "start_label": _moment(b["start"]), "end_label": _moment(b["end"]),
         "same_second": [{**s, "at_label": _moment(s["at"])} for s in b.get("same_second", [])]}
        for b in raw.get("bursts", [])
    ]
    sep = pgettext("list separator", "・")
    return Signals(
        bursts=bursts,
        shared_identities=[{**s, "label": sep.join(str(FIELD_LABELS[f]) for f in s["fields"])}
                           for s in raw.get("shared_identities", [])],
        disposable_emails=[{**d, "submissions": [d["submission"]]} for d in raw.get("disposable_emails", [])],
        n_submissions=int(raw.get("n_submissions", 0)),
        without_time=int(raw.get("without_received_at", 0)),
    )
