"""Published results as files: CSV (Excel-friendly UTF-8 with BOM), Excel, JSON, and the
anonymised ballot set that lets anyone recount and check the digest."""

from __future__ import annotations

import json
from typing import Any

from hiroba.core import tabular
from hiroba.proposals import ballots as ballot_math
from hiroba.proposals import queries, services
from hiroba.proposals.models import Call

COLUMNS = [
    tabular.Column("受付番号", "receipt_number", width=14), tabular.Column("提案名", "title", width=48),
    tabular.Column("提案者の区分", "category"), tabular.Column("団体名・事業者名", "proposer", width=24),
    tabular.Column("審査結果", "screening", width=16), tabular.Column("審査結果の理由", "reason", width=40),
    tabular.Column("得票数", "votes"), tabular.Column("順位", "rank"), tabular.Column("採用", "adopted"),
    tabular.Column("事業化の状況", "followup", width=16),
]
HEADER = [c.heading for c in COLUMNS]


def _rows(call: Call) -> list[list[Any]]:
    rows = []
    for r in queries.result_rows(call):
        p = r.proposal
        hidden = p.is_hidden
        followup = getattr(p, "followup", None)
        rows.append([
            p.receipt_number,
            "（非公開）" if hidden else p.title,
            p.get_proposer_category_display(),
            "" if p.proposer_category == "individual" or hidden else p.proposer_label,
            p.get_screening_decision_display(),
            "" if hidden else p.screening_reason,
            r.votes, r.rank or None,
            "採用" if p.adopted_at else "",
            followup.get_status_display() if followup else "",
        ])
    return rows


def summary(call: Call) -> dict[str, Any]:
    result = call.result
    return {"call": call.slug, "title": call.title, "applications": result.applications, "voters": result.voters,
            "votes": result.votes, "online_voters": result.online_voters, "paper_voters": result.paper_voters,
            "published_at": result.published_at.isoformat(), "ballots_sha256": result.digest}


def table(call: Call, *, preamble: list[list[Any]]) -> tabular.Table:
    return tabular.Table(columns=COLUMNS, rows=_rows(call), sheet="結果", preamble=preamble)


def results_csv(call: Call) -> bytes:
    s = summary(call)
    return tabular.to_csv(table(call, preamble=[
        ["募集", call.title],
        ["応募件数", s["applications"], "投票者数", s["voters"], "票数", s["votes"]],
        ["投票データのSHA-256", s["ballots_sha256"]],
        [],
    ]))


def results_xlsx(call: Call) -> bytes:
    """Counts, votes and ranks as number cells; every text through the formula guard."""
    s = summary(call)
    return tabular.to_xlsx(table(call, preamble=[
        ["募集", call.title], ["応募件数", s["applications"]], ["投票者数", s["voters"]], ["票数", s["votes"]],
        ["投票データのSHA-256", s["ballots_sha256"]], [],
    ]))


def results_json(call: Call) -> bytes:
    data = summary(call)
    data["proposals"] = [{**r, "rank": "" if r["rank"] is None else r["rank"]}
                         for r in tabular.records(table(call, preamble=[]))]
    data["tally"] = dict(call.result.tally)
    return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")


def ballots_document(call: Call) -> dict[str, Any]:
    """The anonymised ballot set, as published after the results (tokens already sealed)."""
    ballot_set = services.anonymised_ballots(call)
    return {"format": ballot_math.FORMAT, "call": call.slug, "title": call.title,
            "digest": ballot_math.digest(ballot_set), "tally": ballot_math.tally(ballot_set), "ballots": ballot_set}


def ballots_json(call: Call) -> bytes:
    return json.dumps(ballots_document(call), ensure_ascii=False, indent=1).encode("utf-8")


def ballots_text(call: Call) -> bytes:
    """The canonical ballot set itself: the exact bytes whose SHA-256 is the published digest."""
    return ballot_math.canonical(services.anonymised_ballots(call))


def ballots_csv(call: Call) -> bytes:
    """The same ballots for a spreadsheet: one row per vote (投票用紙の番号, 受付番号), written like
    every other table (core.tabular); `ballots.from_csv` (the verifier) reads it back."""
    table = tabular.Table(columns=[tabular.Column(h) for h in ballot_math.CSV_HEADER],
                          rows=ballot_math.vote_rows(services.anonymised_ballots(call)))
    return tabular.to_csv(table)
