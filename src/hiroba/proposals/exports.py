"""Published results as files: CSV (Excel-friendly UTF-8 with BOM), Excel, JSON, and the
anonymised ballot set that lets anyone recount and check the digest."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from hiroba.proposals import ballots as ballot_math
from hiroba.proposals import queries, services
from hiroba.proposals.models import Call

HEADER = ["受付番号", "提案名", "提案者の区分", "団体名・事業者名", "審査結果", "審査結果の理由", "得票数", "順位",
          "採用", "事業化の状況"]


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
            r.votes, r.rank or "",
            "採用" if p.adopted_at else "",
            followup.get_status_display() if followup else "",
        ])
    return rows


def summary(call: Call) -> dict[str, Any]:
    result = call.result
    return {"call": call.slug, "title": call.title, "applications": result.applications, "voters": result.voters,
            "votes": result.votes, "online_voters": result.online_voters, "paper_voters": result.paper_voters,
            "published_at": result.published_at.isoformat(), "ballots_sha256": result.digest}


def results_csv(call: Call) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    s = summary(call)
    writer.writerow(["募集", call.title])
    writer.writerow(["応募件数", s["applications"], "投票者数", s["voters"], "票数", s["votes"]])
    writer.writerow(["投票データのSHA-256", s["ballots_sha256"]])
    writer.writerow([])
    writer.writerow(HEADER)
    writer.writerows(_rows(call))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def results_xlsx(call: Call) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "結果"
    s = summary(call)
    ws.append(["募集", call.title])
    ws.append(["応募件数", s["applications"]])
    ws.append(["投票者数", s["voters"]])
    ws.append(["票数", s["votes"]])
    ws.append(["投票データのSHA-256", s["ballots_sha256"]])
    ws.append([])
    ws.append(HEADER)
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    for row in _rows(call):
        ws.append(row)
    ws.column_dimensions["B"].width = 48
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def results_json(call: Call) -> bytes:
    data = summary(call)
    data["proposals"] = [dict(zip(["receipt_number", "title", "category", "proposer", "screening", "reason",
                                   "votes", "rank", "adopted", "followup"], row, strict=True)) for row in _rows(call)]
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
    """The same ballots for a spreadsheet: one row per vote (投票用紙の番号, 受付番号)."""
    return ballot_math.as_csv(services.anonymised_ballots(call))
