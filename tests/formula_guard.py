"""Shared checks for the formula-injection guard of every export (see hiroba.core.tabular)."""

from __future__ import annotations

import csv
import io
import itertools
from typing import Any

from django.db import models
from openpyxl import load_workbook

STARTS = ("=", "+", "-", "@", "\t", "\r")


_serial = itertools.count()


def payloads(n: int, start: str | None = None) -> list[str]:
    """n short texts, all different, starting with `start` (or cycling through every character a
    spreadsheet starts a formula with)."""
    return [f"{start or STARTS[i % len(STARTS)]}X{next(_serial)}" for i in range(n)]


def poison(instance: models.Model, names: list[str], start: str | None = None) -> dict[str, str]:
    """Store a formula-looking text in each named field (straight to the database, as an attacker
    who got it past the forms would); return {field: text}."""
    values = dict(zip(names, payloads(len(names), start), strict=True))
    type(instance)._default_manager.filter(pk=instance.pk).update(**values)
    return values


def csv_cells(data: bytes) -> list[str]:
    assert data.startswith(b"\xef\xbb\xbf"), "CSV without the UTF-8 BOM"
    text = data.decode("utf-8-sig")
    assert text.endswith("\r\n"), "CSV rows must end with CRLF"
    return [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]


def xlsx_cells(data: bytes) -> list[Any]:
    workbook = load_workbook(io.BytesIO(data))
    cells = []
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate} is a formula: {cell.value!r}"
                if isinstance(cell.value, str):
                    assert cell.data_type == "s"
                cells.append(cell.value)
    return cells


def assert_guarded(cells: list[Any], expected: list[str] | dict[str, str]) -> None:
    """No text cell starts a formula, and every planted text is there, prefixed with an apostrophe."""
    for cell in cells:
        if isinstance(cell, str):
            assert not cell.startswith(STARTS), f"unguarded cell {cell!r}"
    wanted = list(expected.values()) if isinstance(expected, dict) else expected
    texts = [c for c in cells if isinstance(c, str)]
    for value in wanted:
        assert any(c == "'" + value or c.startswith("'" + value) for c in texts), f"{value!r} not exported guarded"
