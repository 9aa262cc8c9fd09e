"""core.tabular: one table to CSV (BOM, CRLF), XLSX (typed cells, frozen header, print titles) and JSON."""

from __future__ import annotations

import io
import json
from datetime import date

import pytest
from openpyxl import load_workbook

from hiroba.core import tabular
from tests.formula_guard import STARTS


def _table() -> tabular.Table:
    return tabular.Table(
        columns=[tabular.Column("件名", "title", width=30), tabular.Column("件数", "count"),
                 tabular.Column("日付", "day", number_format="yyyy/m/d", csv=lambda d: f"{d.year}/{d.month}/{d.day}")],
        rows=[["=SUM(A1:A9)", 12, date(2025, 4, 7)], ["運動会", 3.5, None]], sheet="一覧",
        preamble=[["題", "@題名"], []],
    ).materialise()


@pytest.mark.parametrize("start", STARTS)
def test_guard_prefixes_every_formula_start_and_unguard_takes_it_off(start):
    assert tabular.guard(start + "x") == "'" + start + "x"
    assert tabular.unguard(tabular.guard(start + "x")) == start + "x"
    assert tabular.guard("区民") == "区民" and tabular.guard(-1) == -1 and tabular.unguard("'区民") == "'区民"


def test_csv_has_bom_crlf_guarded_text_and_plain_numbers():
    data = tabular.to_csv(_table())
    assert data == ("\ufeff題,'@題名\r\n\r\n件名,件数,日付\r\n'=SUM(A1:A9),12,2025/4/7\r\n運動会,3.5,\r\n").encode()


def test_xlsx_types_numbers_and_dates_stores_text_as_strings_and_freezes_the_header():
    sheet = load_workbook(io.BytesIO(tabular.to_xlsx(_table()))).active
    assert sheet.title == "一覧" and sheet["B1"].value == "'@題名" and sheet["B1"].data_type == "s"
    assert [c.value for c in sheet[3]] == ["件名", "件数", "日付"] and sheet["A3"].font.bold
    assert sheet["A4"].value == "'=SUM(A1:A9)" and sheet["A4"].data_type == "s"
    assert sheet["B4"].value == 12 and sheet["B4"].data_type == "n" and sheet["B5"].value == 3.5
    assert sheet["C4"].value.date() == date(2025, 4, 7) and sheet["C4"].number_format == "yyyy/m/d"
    assert sheet["C5"].value is None
    assert sheet.freeze_panes == "A4" and sheet.print_title_rows == "$3:$3"
    assert sheet.column_dimensions["A"].width == 30


def test_json_keeps_values_as_they_are():
    data = json.loads(tabular.to_json(_table(), extra={"name": "一覧"}))
    assert data == {"name": "一覧", "rows": [{"title": "=SUM(A1:A9)", "count": 12, "day": "2025-04-07"},
                                             {"title": "運動会", "count": 3.5, "day": None}]}
