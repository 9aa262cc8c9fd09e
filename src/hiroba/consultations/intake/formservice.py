"""Imports from the ward's form service (LoGoフォーム and similar): the CSV or Excel export, one
submission per row under a header row, Shift_JIS or UTF-8, through a column mapping staff save
per case. The mapping names the column that identifies a row (受付番号 of the form service, an
answer ID): importing the same export again, or a later export that repeats its rows, adds
nothing twice. A broken row is held with its reason; the other rows go on.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePath

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hiroba.consultations.intake import audit_actions as actions
from hiroba.consultations.intake.models import FormMapping, Original, Source
from hiroba.consultations.intake.services import (
    DUPLICATE,
    NEW,
    SYSTEM,
    File,
    Hold,
    Incoming,
    Outcome,
    make_key,
    store_original,
    take,
)
from hiroba.consultations.models import Case, Category, Channel, IdentityLevel
from hiroba.consultations.services import ConsultationError
from hiroba.core import audit
from hiroba.core.actors import Actor, ActorLike
from hiroba.core.text import decode_japanese

FIELD_LABELS = {
    "text": "意見", "received_at": "受付日時", "name": "氏名", "address": "住所", "category": "区分",
    "email": "メールアドレス", "phone": "電話番号", "section": "該当箇所",
}
DATETIME_FORMATS = ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M",
                    "%Y年%m月%d日 %H時%M分", "%Y年%m月%d日 %H:%M", "%Y/%m/%d", "%Y-%m-%d")
MAX_ROWS = 50_000


class ExportUnreadable(ConsultationError):
    """The file as a whole cannot be read (nothing imported)."""


@dataclass
class Import:
    new: int = 0
    duplicate: int = 0
    held: list[Outcome] = field(default_factory=list)
    rows: int = 0


def mapping_save(*, actor: ActorLike, case: Case, name: str, row_key: str, columns: dict[str, str]) -> FormMapping:
    columns = {k: v.strip() for k, v in columns.items() if k in FormMapping.FIELDS and v and v.strip()}
    if not row_key.strip():
        raise ConsultationError(_("行を識別する列（フォームサービスの受付番号など）を指定してください。"))
    if "text" not in columns:
        raise ConsultationError(_("意見の列を指定してください。"))
    with transaction.atomic():
        mapping, created = FormMapping.objects.select_for_update().get_or_create(
            case=case, name=name.strip() or "既定", defaults={"row_key": row_key.strip(), "columns": columns})
        before = {"row_key": mapping.row_key, "columns": mapping.columns}
        mapping.row_key, mapping.columns, mapping.updated_by = row_key.strip(), columns, Actor.of(actor).account()
        mapping.save()
        audit.record(actor=actor, action=actions.MAPPING_SAVE, obj=mapping,
                     changes={"case": case.slug, "created": created, "before": before,
                              "after": {"row_key": mapping.row_key, "columns": columns}})
    return mapping


def decode(content: bytes) -> str:
    """UTF-8 (with or without BOM), else Shift_JIS as Windows writes it (cp932)."""
    text = decode_japanese(content)
    if text is not None:
        return text
    raise ExportUnreadable(_("ファイルの文字コードが UTF-8 でも Shift_JIS でもないため、読めませんでした。"))


def read_rows(name: str, content: bytes) -> tuple[list[str], list[tuple[int, list[str] | None, str]]]:
    """(header, [(line number, cells or None, problem)])."""
    if PurePath(name).suffix.lower() in (".xlsx",) or content[:2] == b"PK":
        return _xlsx_rows(content)
    text = decode(content)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise ExportUnreadable(_("ファイルが空です。")) from None
    except csv.Error as exc:
        raise ExportUnreadable(_("見出しの行を読めませんでした（%(error)s）。") % {"error": exc}) from None
    rows: list[tuple[int, list[str] | None, str]] = []
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            rows.append((line, None, _("%(line)s行目を CSV として読めませんでした（%(error)s）。") % {"line": line, "error": exc}))
            continue
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            rows.append((line, cells, _("%(line)s行目の列の数（%(cells)s）が見出し（%(header)s）と違います。") % {
                "line": line, "cells": len(cells), "header": len(header)}))
            continue
        rows.append((line, cells, ""))
        if len(rows) > MAX_ROWS:
            raise ExportUnreadable(_("行が多すぎます（上限 %(max)s 行）。ファイルを分けてください。") % {"max": f"{MAX_ROWS:,}"})
    return header, rows


def _xlsx_rows(content: bytes) -> tuple[list[str], list[tuple[int, list[str] | None, str]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:
        raise ExportUnreadable(_("Excel ファイルとして読めませんでした（%(error)s）。") % {"error": type(exc).__name__}) from None
    sheet = workbook.worksheets[0]
    values = sheet.iter_rows(values_only=True)
    try:
        header = [str(h or "").strip() for h in next(values)]
    except StopIteration:
        raise ExportUnreadable(_("ファイルが空です。")) from None
    rows: list[tuple[int, list[str] | None, str]] = []
    for line, row in enumerate(values, start=2):
        cells = ["" if v is None else (v.strftime("%Y-%m-%d %H:%M:%S") if isinstance(v, datetime) else str(v))
                 for v in row]
        if any(c.strip() for c in cells):
            rows.append((line, (cells + [""] * len(header))[:len(header)], ""))
    workbook.close()
    return header, rows


def parse_datetime(value: str) -> datetime:
    value = value.strip()
    for fmt in DATETIME_FORMATS:
        try:
            parsed = datetime.strptime(value, fmt)
        except ValueError:
            continue
        return timezone.make_aware(parsed) if parsed.tzinfo is None else parsed
    raise ValueError(value)


def import_export(case: Case, mapping: FormMapping, name: str, content: bytes, *, actor: ActorLike = SYSTEM) -> Import:
    """Import one export; each row in its own transaction (a broken row never stops the others)."""
    header, rows = read_rows(name, content)
    missing = [h for h in [mapping.row_key, *mapping.columns.values()] if h not in header]
    if missing:
        raise ExportUnreadable(_("ファイルに見出し「%(headings)s」がありません（列の対応「%(mapping)s」）。"
                                 "列の対応かファイルを確認してください。") % {"headings": "」「".join(missing), "mapping": mapping.name})
    digest = hashlib.sha256(content).hexdigest()
    export = Original.objects.filter(case=case, kind=Original.Kind.EXPORT, sha256=digest).first()
    if export is None:
        with transaction.atomic():
            export = store_original(case, File(Original.Kind.EXPORT, PurePath(name).name, content))
            audit.record(actor=actor, action=actions.EXPORT_IMPORT, obj=export,
                         changes={"case": case.slug, "mapping": mapping.name, "rows": len(rows), "sha256": digest})
    result = Import(rows=len(rows))
    index = {h: i for i, h in enumerate(header)}
    for line, cells, problem in rows:
        outcome = take(_row(case, mapping, index, line, cells, problem, export))
        if outcome.result == NEW:
            result.new += 1
        elif outcome.result == DUPLICATE:
            result.duplicate += 1
        else:
            result.held.append(outcome)
    return result


def _row(case: Case, mapping: FormMapping, index: dict[str, int], line: int, cells: list[str] | None, problem: str,
         export: Original) -> Incoming:
    def cell(column: str) -> str:
        return (cells[index[column]] if cells is not None and column in index and index[column] < len(cells)
                else "").strip()

    row_key = cell(mapping.row_key)
    key = make_key("form", case.pk, row_key) if row_key and not problem else make_key(
        "form-row", case.pk, export.sha256, line)
    values = {f: cell(c) for f, c in mapping.columns.items()}
    item = Incoming(case=case, source=Source.FORM, channel=Channel.WEB, source_key=key, received_at=timezone.now(),
                    text=values.get("text", "").replace("\r\n", "\n"), subject=f"{export.name} {line}行目",
                    shared=[export], external_key=f"form:{row_key}"[:100], check_period=False)
    if problem:
        item.hold = Hold("broken_row", problem)
        return item
    if not row_key:
        item.hold = Hold("broken_row", _("%(line)s行目に「%(column)s」（行を識別する列）がありません。") % {
            "line": line, "column": mapping.row_key})
        return item
    if values.get("received_at"):
        try:
            item.received_at = parse_datetime(values["received_at"])
        except ValueError:
            item.hold = Hold("broken_row", _("%(line)s行目の受付日時「%(value)s」を日時として読めません。") % {
                "line": line, "value": values["received_at"][:40]})
            return item
    else:
        item.hold = Hold("broken_row", _("%(line)s行目に受付日時がありません。") % {"line": line})
        return item
    category = values.get("category", "")
    values["category"] = next((c.value for c in Category if category in (c.value, c.label)), "")
    item.fields = {k: v for k, v in values.items() if k not in ("text", "received_at")}
    if not item.text:
        item.hold = Hold("broken_row", _("%(line)s行目に意見がありません。") % {"line": line})
    elif case.identity_level != IdentityLevel.NONE:
        item.hold = Hold("identity", _("この案件は「%(level)s」が必要なため、フォームサービスの"
                                       "行は職員が確認してから受け付けます。") % {"level": case.get_identity_level_display()})
    elif not (case.period_start <= timezone.localdate(item.received_at) <= case.last_day):
        item.hold = Hold("period", _("期間外: 受付日時（%(received)s）が募集期間の外です。") % {
            "received": f"{timezone.localtime(item.received_at):%Y-%m-%d %H:%M}"})
    return item
