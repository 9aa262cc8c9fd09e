"""Public results: every text a spreadsheet would run as a formula is neutralised in CSV and XLSX,
and counts, votes and ranks are number cells (issues 13.7 and 12.7)."""

from __future__ import annotations

import io
import json

import pytest
from openpyxl import load_workbook

from hiroba.proposals import exports, services
from hiroba.proposals.models import Proposal
from tests.formula_guard import STARTS, assert_guarded, csv_cells, payloads, poison, xlsx_cells
from tests.proposals.conftest import DURING_VOTING, RESULTS_DAY

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(call, shortlisted, make_resident, approver):
    a, b, _, _ = shortlisted
    for chosen in ([a, b], [a]):
        services.ballot_replace(voter=make_resident(), call=call, proposal_ids=[p.pk for p in chosen],
                                now=DURING_VOTING)
    services.results_publish(actor=approver, call=call, now=RESULTS_DAY)
    return call


def _plant(call, start: str) -> list[str]:
    planted = []
    for proposal in Proposal.objects.filter(call=call):
        Proposal.objects.filter(pk=proposal.pk).update(proposer_category="group", proposer_label="団体")
        planted += poison(proposal, ["receipt_number", "title", "proposer_label", "screening_reason"], start).values()
    title = payloads(1, start)[0]
    type(call).objects.filter(pk=call.pk).update(title=title)
    call.refresh_from_db()
    return [*planted, title]


def test_a_hyperlink_title_is_not_a_live_formula_in_csv_or_xlsx(published):
    Proposal.objects.filter(call=published).update(title='=HYPERLINK("http://evil.example","click")')
    assert '\'=HYPERLINK("http://evil.example","click")' in csv_cells(exports.results_csv(published))
    cells = xlsx_cells(exports.results_xlsx(published))
    assert '\'=HYPERLINK("http://evil.example","click")' in cells


@pytest.mark.parametrize("start", STARTS)
def test_every_exported_text_is_guarded(published, start):
    planted = _plant(published, start)
    assert_guarded(csv_cells(exports.results_csv(published)), planted)
    assert_guarded(xlsx_cells(exports.results_xlsx(published)), planted)
    # JSON is read by programs: the texts are as stored
    data = json.loads(exports.results_json(published))
    assert {p["title"] for p in data["proposals"]} <= set(planted)


def test_xlsx_counts_votes_and_ranks_are_numbers(published):
    sheet = load_workbook(io.BytesIO(exports.results_xlsx(published))).active
    values = [[c for c in row] for row in sheet.iter_rows()]
    header = next(i for i, row in enumerate(values) if row[0].value == "受付番号")
    for label_cell, value_cell, *_ in values[1:4]:
        assert value_cell.data_type == "n" and isinstance(value_cell.value, int), label_cell.value
    columns = [c.value for c in values[header]]
    votes, rank = columns.index("得票数"), columns.index("順位")
    body = values[header + 1:]
    assert [r[votes].value for r in body] == [2, 1, 0, 0]
    assert all(r[votes].data_type == "n" for r in body)
    assert [r[rank].value for r in body] == [1, 2, 3, None]  # the unlisted proposal has no rank
    assert all(r[rank].data_type == "n" for r in body[:3])
    assert sheet.freeze_panes == f"A{header + 2}" and sheet.print_title_rows == f"${header + 1}:${header + 1}"
