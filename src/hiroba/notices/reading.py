"""Reading the core system's files: CSV (UTF-8, with or without BOM, or Shift_JIS) or Excel.

Every file becomes a header and rows of stripped strings, with the spreadsheet row number of
each row (the header is row 1), so every error can say `row N: …` about the line the clerk
sees in Excel."""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

from django.utils.translation import gettext_lazy as _

from hiroba.core import tabular
from hiroba.core.errors import ServiceError
from hiroba.core.text import decode_japanese


@dataclass
class Sheet:
    header: list[str]
    rows: list[tuple[int, list[str]]]  # (row number in the file, cells)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.date() if value.time() == datetime.min.time() else value
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _decode(raw: bytes) -> str:
    text = decode_japanese(raw)
    if text is not None:
        return text
    raise ServiceError(_("文字コードを判別できません（UTF-8 または Shift_JIS で保存してください）。"), code="encoding")


def read(raw: bytes) -> Sheet:
    """The header and the non-empty rows of a CSV or XLSX file."""
    if raw.startswith(b"PK"):
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
        except Exception:  # noqa: BLE001 - openpyxl raises many kinds for a broken file
            raise ServiceError(_("Excelファイルとして読めません。"), code="malformed") from None
        table = [[_cell(v) for v in values] for values in workbook.worksheets[0].iter_rows(values_only=True)]
        workbook.close()
    else:
        table = [[c.strip() for c in row] for row in csv.reader(io.StringIO(_decode(raw), newline=""))]
    numbered = [(n, row) for n, row in enumerate(table, start=1) if any(cell for cell in row)]
    if not numbered:
        raise ServiceError(_("空のファイルです。"), code="empty")
    (_first, header), *rows = numbered
    header = [unicodedata.normalize("NFKC", tabular.unguard(h)).strip() for h in header]
    while header and not header[-1]:
        header.pop()
    return Sheet(header=header, rows=[(n, [tabular.unguard(c) for c in row]) for n, row in rows])


def parse_date(text: str) -> date | None:
    """A date as the core system writes it: 1980-04-01, 1980/4/1 or 19800401."""
    value = unicodedata.normalize("NFKC", text).strip()
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d"):
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    return None
