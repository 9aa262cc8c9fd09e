"""One table definition, three files: CSV (UTF-8 with BOM, CRLF), XLSX and JSON.

Every download a spreadsheet may open goes through here, so the formula-injection guard is
applied in one place: a text cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage
return is prefixed with an apostrophe (OWASP's advice; Excel and LibreOffice then show it as
text), and in XLSX it is also stored as a string cell, so it can never become a formula.
Numbers stay numbers (typed cells in XLSX), dates stay dates.

    table = tabular.Table(
        columns=[tabular.Column("受付番号", "receipt_number"), tabular.Column("得票数", "votes")],
        rows=[["DX-001", 12], ...], sheet="結果", preamble=[["募集", "令和7年度 …"]])
    tabular.to_csv(table); tabular.to_xlsx(table); tabular.to_json(table)
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from django.utils.functional import Promise

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"


def guard(value: Any) -> Any:
    """A text a spreadsheet would run as a formula, prefixed with an apostrophe; anything else as is
    (a lazily translated label becomes its text in the active language)."""
    if isinstance(value, Promise):
        value = str(value)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def unguard(value: Any) -> Any:
    """The text `guard` was given (for a file exported here and imported again)."""
    if isinstance(value, str) and value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


@dataclass(frozen=True)
class Column:
    heading: str
    key: str = ""  # the JSON key (defaults to the heading)
    width: float | None = None  # XLSX column width, in characters
    number_format: str | None = None  # XLSX number format for numbers and dates (e.g. "yyyy/m/d")
    wrap: bool = False  # XLSX: wrap long text, top-aligned
    csv: Callable[[Any], Any] | None = None  # how a non-empty value is written in CSV (e.g. a date as 2025/4/7)


@dataclass
class Table:
    columns: Sequence[Column]
    rows: Iterable[Sequence[Any]]
    sheet: str = "Sheet1"
    preamble: Sequence[Sequence[Any]] = field(default_factory=list)  # rows above the header (title, totals)
    freeze: bool = True  # XLSX: keep the header row in view
    print_titles: bool = True  # XLSX: repeat the header row on every printed page

    def materialise(self) -> Table:
        """The rows as a list, so that one table can be written in several formats."""
        if not isinstance(self.rows, list):
            self.rows = [list(r) for r in self.rows]
        return self


def _csv_cell(value: Any, column: Column | None) -> Any:
    if value is None:
        return ""
    if column is not None and column.csv is not None:
        value = column.csv(value)
    elif isinstance(value, datetime | date | time):
        value = value.isoformat()
    elif isinstance(value, bool):
        value = "1" if value else "0"
    return guard(value)


def write_csv(out: io.TextIOBase | Any, table: Table) -> int:
    """Write the table to a text stream (BOM, CRLF); return the number of data rows."""
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    for row in table.preamble:
        writer.writerow([_csv_cell(v, None) for v in row])
    writer.writerow([guard(c.heading) for c in table.columns])
    n = 0
    for row in table.rows:
        writer.writerow([_csv_cell(v, c) for v, c in zip(row, table.columns, strict=True)])
        n += 1
    return n


def to_csv(table: Table) -> bytes:
    """UTF-8 with a BOM (Excel opens it in Japanese correctly; every CSV reader skips it), CRLF."""
    out = io.StringIO(newline="")
    write_csv(out, table)
    return out.getvalue().encode("utf-8")


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return value  # openpyxl writes Decimal as a number
    if isinstance(value, bool | int | float | datetime | date | time) or value is None:
        return value
    return guard(str(value))


def set_cell(cell: Any, value: Any, column: Column | None = None) -> None:
    """One XLSX cell: numbers and dates typed, text guarded and stored as a string (never a formula)."""
    cell.value = _xlsx_value(value)
    if isinstance(cell.value, str):
        cell.data_type = "s"
    elif column is not None and column.number_format and cell.value is not None:
        cell.number_format = column.number_format
    if column is not None and column.wrap:
        from openpyxl.styles import Alignment

        cell.alignment = Alignment(wrap_text=True, vertical="top")


def append_row(sheet: Any, values: Sequence[Any], columns: Sequence[Column] | None = None) -> int:
    """Append one row to an openpyxl sheet through the guard; return its row number."""
    sheet.append([_xlsx_value(v) for v in values])
    row = sheet.max_row
    for index, value in enumerate(values, start=1):
        if value is not None:
            set_cell(sheet.cell(row=row, column=index), value, columns[index - 1] if columns else None)
    return row


def write_sheet(sheet: Any, table: Table) -> int:
    """Write the table into an openpyxl sheet (preamble, bold header, rows); return the header's row.

    The header is frozen and repeated on printed pages; callers add what is particular to their
    file (a table style, data validation, another sheet) afterwards.
    """
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    sheet.title = table.sheet[:31]
    for values in table.preamble:
        append_row(sheet, values)
    header = append_row(sheet, [c.heading for c in table.columns])
    for cell in sheet[header]:
        cell.font = Font(bold=True)
    for values in table.rows:
        append_row(sheet, values, table.columns)
    for index, column in enumerate(table.columns, start=1):
        if column.width:
            sheet.column_dimensions[get_column_letter(index)].width = column.width
    if table.freeze:
        sheet.freeze_panes = f"A{header + 1}"
    if table.print_titles:
        sheet.print_title_rows = f"{header}:{header}"
    return header


def workbook_bytes(workbook: Any) -> bytes:
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def to_xlsx(*tables: Table) -> bytes:
    """One sheet per table."""
    from openpyxl import Workbook

    workbook = Workbook()
    for index, table in enumerate(tables):
        sheet = workbook.active if index == 0 else workbook.create_sheet()
        write_sheet(sheet, table)
    return workbook_bytes(workbook)


def _json_value(value: Any) -> Any:
    if isinstance(value, Promise):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def records(table: Table) -> list[dict[str, Any]]:
    """The rows as {key: value} (JSON is read by programs, not spreadsheets: no guard)."""
    keys = [c.key or c.heading for c in table.columns]
    return [{k: _json_value(v) for k, v in zip(keys, row, strict=True)} for row in table.rows]


def to_json(table: Table, *, extra: dict[str, Any] | None = None, key: str = "rows", indent: int | None = 2) -> bytes:
    """`{**extra, key: records}` as UTF-8 JSON."""
    data = {**(extra or {}), key: records(table)}
    return json.dumps(data, ensure_ascii=False, indent=indent).encode("utf-8")
