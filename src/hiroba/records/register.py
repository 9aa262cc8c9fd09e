"""The 行政文書ファイル管理簿: registering files, the computed dates, import and export in the
register's layout (Excel / CSV), and the published columns of the public register."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from hiroba.accounts.models import Role
from hiroba.core import audit, tabular
from hiroba.core.actors import ActorLike
from hiroba.core.dates import fiscal_year_label
from hiroba.core.errors import ServiceError
from hiroba.core.models import Department
from hiroba.core.text import decode_japanese
from hiroba.records import audit_actions as actions
from hiroba.records import conf
from hiroba.records.models import (
    Action,
    Classification,
    Medium,
    RecordFile,
    Retention,
    ShortReason,
    start_of_period,
)
from hiroba.records.services import department_by_name, require_department, who

#: The register's columns, in the national guideline's order (所属 first: one file, every department).
HEADINGS = ["所属", "作成・取得年度", "大分類", "中分類", "小分類", "名称", "作成・取得者", "起算日", "保存期間",
            "保存期間満了日", "媒体", "保存場所", "管理者", "保存期間満了時の措置", "備考", "共有フォルダ上の場所", "公開"]
#: What the public register shows (no 共有フォルダ上の場所, no internal flags).
PUBLIC_HEADINGS = HEADINGS[:15]
REQUIRED = ["所属", "作成・取得年度", "大分類", "中分類", "名称", "作成・取得者", "保存期間", "保存場所", "管理者",
            "保存期間満了時の措置"]
FIELDS = ["department_id", "classification_id", "fiscal_year", "large", "medium", "small", "name", "author",
          "start_date", "retention", "short_reason", "expiry_date", "medium_type", "location", "share_path",
          "manager", "action", "note", "is_public"]


def expiry_of(start: date, retention: int) -> date | None:
    """保存期間満了日 from the 起算日: N years later, the day before (31 March for a 1 April start);
    1年未満 ends the day before the 起算日; 常用 never."""
    if retention < 0:
        return None
    if retention == 0:
        return start - timedelta(days=1)
    try:
        return date(start.year + retention, start.month, start.day) - timedelta(days=1)
    except ValueError:  # a 29 February start
        return date(start.year + retention, 3, 1) - timedelta(days=1)


def _check_retention(retention: int, short_reason: str) -> None:
    if retention not in Retention.values:
        raise ServiceError(_("保存期間は 1年未満・1年・3年・5年・10年・30年・常用 のいずれかです。"),
                           code="retention_invalid", field="retention")
    if retention == Retention.UNDER_ONE_YEAR and not short_reason:
        raise ServiceError(_("保存期間を1年未満とするのは、国のガイドラインが認める場合（写し、定型的な業務連絡など）"
                             "に限られます。理由を選んでください。"), code="short_reason_required", field="short_reason")
    if short_reason and short_reason not in ShortReason.values:
        raise ServiceError(_("1年未満とする理由の値が正しくありません。"), code="short_reason_invalid", field="short_reason")


@dataclass
class FileData:
    """One register row as given (a form, an import row, hiroba's own records)."""

    department: Department
    fiscal_year: int
    large: str
    medium: str
    name: str
    author: str
    retention: int
    location: str
    manager: str
    action: str
    small: str = ""
    start_date: date | None = None
    short_reason: str = ""
    medium_type: str = Medium.ELECTRONIC
    share_path: str = ""
    note: str = ""
    is_public: bool = True
    classification: Classification | None = None

    def values(self) -> dict[str, Any]:
        """The model fields, with 起算日 and 満了日 computed; a ServiceError if a value is wrong."""
        for attr, heading in (("large", "大分類"), ("medium", "中分類"), ("name", "名称"), ("author", "作成・取得者"),
                              ("location", "保存場所"), ("manager", "管理者")):
            if not str(getattr(self, attr)).strip():
                raise ServiceError(format_lazy(_("{heading}を入力してください。"), heading=heading),
                                   code="required", field=attr)
        if not 1900 <= self.fiscal_year <= 2200:
            raise ServiceError(_("作成・取得年度が正しくありません。"), code="fiscal_year", field="fiscal_year")
        _check_retention(self.retention, self.short_reason)
        if self.action not in Action.values:
            raise ServiceError(_("保存期間満了時の措置は「廃棄」か「移管」です。"), code="action_invalid", field="action")
        if self.medium_type not in Medium.values:
            raise ServiceError(_("媒体は「電子」「紙」「電子・紙」のいずれかです。"), code="medium_invalid",
                               field="medium_type")
        earliest = start_of_period(self.fiscal_year)
        start = self.start_date or earliest
        if start < earliest:
            raise ServiceError(format_lazy(_("起算日は作成・取得年度の翌年度の4月1日（{day}）以降です。"),
                                           day=earliest.isoformat()), code="start_too_early", field="start_date")
        share_path = self.share_path.strip().replace("\\", "/").strip("/")
        if ".." in share_path.split("/"):
            raise ServiceError(_("共有フォルダ上の場所に「..」は使えません。"), code="share_path", field="share_path")
        return {
            "department_id": self.department.pk, "classification_id": self.classification.pk if self.classification
            else None, "fiscal_year": self.fiscal_year, "large": self.large.strip(), "medium": self.medium.strip(),
            "small": self.small.strip(), "name": self.name.strip(), "author": self.author.strip(), "start_date": start,
            "retention": self.retention, "short_reason": self.short_reason, "expiry_date": expiry_of(start, self.retention),
            "medium_type": self.medium_type, "location": self.location.strip(), "share_path": share_path,
            "manager": self.manager.strip(), "action": self.action, "note": self.note.strip(),
            "is_public": self.is_public,
        }


@transaction.atomic
def file_create(*, actor: ActorLike, data: FileData, source_type: str = "", source_id: str = "") -> RecordFile:
    """Register one 行政文書ファイル."""
    require_department(actor, data.department, Role.HANDLE)
    values = data.values()
    if RecordFile.objects.filter(department_id=values["department_id"], fiscal_year=values["fiscal_year"],
                                 name=values["name"]).exists():
        raise ServiceError(_("同じ所属・年度・名称の行政文書ファイルが登録されています。"), code="file_exists", field="name")
    record = RecordFile.objects.create(**values, source_type=source_type, source_id=source_id)
    audit.record(actor=who(actor), action=actions.FILE_CREATE, obj=record,
                 changes=audit.diff({}, audit.snapshot(record, FIELDS)))
    return record


def from_classification(classification: Classification, **kwargs: Any) -> FileData:
    """FileData whose 分類, 保存期間 and 措置 come from the file plan's category."""
    return FileData(department=classification.department, large=classification.large, medium=classification.medium,
                    small=classification.small, retention=classification.retention,
                    short_reason=classification.short_reason, action=classification.action,
                    classification=classification, **kwargs)


# --- export -----------------------------------------------------------------------------

def _retention_label(value: int) -> str:
    return str(Retention(value).label)


def rows(qs: Any, *, public: bool = False) -> list[list[Any]]:
    out = []
    for f in qs.select_related("department"):
        row = [f.department.name, fiscal_year_label(f.fiscal_year), f.large, f.medium, f.small, f.name, f.author,
               f.start_date, _retention_label(f.retention), f.expiry_date, f.get_medium_type_display(), f.location,
               f.manager, f.get_action_display(), f.note]
        if not public:
            row += [f.share_path, "公開" if f.is_public else "非公開"]
        out.append(row)
    return out


def table(qs: Any, *, public: bool = False) -> tabular.Table:
    headings = PUBLIC_HEADINGS if public else HEADINGS
    widths = {"名称": 40, "保存場所": 24, "備考": 24, "所属": 16, "共有フォルダ上の場所": 30}
    columns = [tabular.Column(h, width=widths.get(h, 12),
                              number_format="yyyy/m/d" if h in ("起算日", "保存期間満了日") else None,
                              csv=(lambda d: f"{d.year}/{d.month}/{d.day}") if h in ("起算日", "保存期間満了日") else None)
               for h in headings]
    return tabular.Table(columns=columns, rows=rows(qs, public=public), sheet="行政文書ファイル管理簿")


def export(qs: Any, fmt: str, *, public: bool = False) -> bytes:
    t = table(qs, public=public)
    if fmt == "xlsx":
        return tabular.to_xlsx(t)
    if fmt == "csv":
        return tabular.to_csv(t)
    raise ServiceError(_("形式は xlsx か csv です。"), code="format")


# --- import -----------------------------------------------------------------------------

@dataclass
class RowError:
    row: int
    message: str

    def __str__(self) -> str:
        return f"{self.row}行目: {self.message}"


class ImportRefused(ServiceError):
    """A register file with wrong rows: `errors` says which and why; nothing was written."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(format_lazy(_("管理簿を取り込めません（{n}件の誤り）。何も登録していません。"), n=len(errors)),
                         code="import_refused")
        self.errors = errors


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def line(self) -> str:
        return f"登録 {self.created} 件、更新 {self.updated} 件、変更なし {self.unchanged} 件"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(tabular.unguard(str(value))).strip()


def read_table(body: bytes, filename: str) -> list[tuple[int, dict[str, str]]]:
    """(row number, {heading: text}) of an XLSX or CSV register; the header is the row with 名称."""
    if len(body) > conf.get("RECORDS_MAX_IMPORT_BYTES"):
        raise ServiceError(_("ファイルが大きすぎます。"), code="too_large")
    if filename.lower().endswith((".xlsx", ".xlsm")) or body[:2] == b"PK":
        from openpyxl import load_workbook

        try:
            book = load_workbook(io.BytesIO(body), read_only=True, data_only=True)
        except Exception as exc:
            raise ServiceError(_("Excel ファイルとして読めません。"), code="unreadable") from exc
        grid = [[_cell(v) for v in row] for row in book.active.iter_rows(values_only=True)]
    else:
        text = decode_japanese(body)
        if text is None:
            raise ServiceError(_("CSV の文字コードが UTF-8 でも Shift_JIS でもありません。"), code="encoding")
        grid = [[_cell(v) for v in row] for row in csv.reader(io.StringIO(text))]
    header_at = next((i for i, row in enumerate(grid[:20]) if "名称" in row), None)
    if header_at is None:
        raise ServiceError(_("見出しの行（「名称」を含む行）が見つかりません。"), code="no_header")
    header = grid[header_at]
    missing = [h for h in REQUIRED if h not in header]
    if missing:
        raise ServiceError(format_lazy(_("必要な列がありません: {cols}"), cols="、".join(missing)), code="columns")
    out = []
    for i, row in enumerate(grid[header_at + 1:], start=header_at + 2):
        if not any(row):
            continue
        out.append((i, {h: (row[j] if j < len(row) else "") for j, h in enumerate(header) if h}))
    return out


_ERA = {"令和": 2018, "平成": 1988, "昭和": 1925, "R": 2018, "H": 1988, "S": 1925}


def parse_fiscal_year(text: str) -> int:
    """2024, 2024年度, 令和6年度, 令和元年度, R6, R06."""
    t = unicodedata.normalize("NFKC", text).replace(" ", "").replace("元", "1")
    m = re.fullmatch(r"(\d{4})(?:年度?)?", t)
    if m:
        return int(m.group(1))
    m = re.fullmatch(r"(令和|平成|昭和|[RHS])(\d{1,2})(?:年度?)?", t, flags=re.IGNORECASE)
    if m:
        return _ERA[m.group(1).upper() if len(m.group(1)) == 1 else m.group(1)] + int(m.group(2))
    raise ValueError(text)


def parse_retention(text: str) -> int:
    t = unicodedata.normalize("NFKC", text).replace(" ", "")
    for value, label in Retention.choices:
        if t in (label, str(value), f"{value}年"):
            return int(value)
    if t in ("1年以下", "1年未満"):
        return int(Retention.UNDER_ONE_YEAR)
    raise ValueError(text)


def parse_date(text: str) -> date | None:
    t = unicodedata.normalize("NFKC", text).strip()
    if not t:
        return None
    m = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", t)
    if not m:
        raise ValueError(text)
    return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))


def _choice(text: str, choices: Any, heading: str) -> str:
    for value, label in choices:
        if text in (str(label), str(value)):
            return str(value)
    raise ServiceError(format_lazy(_("{heading}「{value}」は使えません。"), heading=heading, value=text), code="choice")


def _row_data(values: dict[str, str]) -> tuple[FileData, date | None]:
    department = department_by_name(values.get("所属", ""))
    try:
        fiscal_year = parse_fiscal_year(values.get("作成・取得年度", ""))
    except ValueError:
        raise ServiceError(format_lazy(_("作成・取得年度「{v}」が読めません（例: 令和6年度、2024）。"),
                                       v=values.get("作成・取得年度", "")), code="fiscal_year") from None
    try:
        retention = parse_retention(values.get("保存期間", ""))
    except ValueError:
        raise ServiceError(format_lazy(_("保存期間「{v}」が読めません（例: 5年、常用）。"), v=values.get("保存期間", "")),
                           code="retention") from None
    try:
        start = parse_date(values.get("起算日", ""))
        given_expiry = parse_date(values.get("保存期間満了日", ""))
    except ValueError:
        raise ServiceError(_("日付が読めません（例: 2025/4/1）。"), code="date") from None
    note = values.get("備考", "")
    short_reason = ""
    if retention == Retention.UNDER_ONE_YEAR:
        short_reason = next((str(v) for v, label in ShortReason.choices if v and str(label) in note), "routine")
    data = FileData(
        department=department, fiscal_year=fiscal_year, large=values.get("大分類", ""), medium=values.get("中分類", ""),
        small=values.get("小分類", ""), name=values.get("名称", ""), author=values.get("作成・取得者", ""),
        start_date=start, retention=retention, short_reason=short_reason,
        medium_type=_choice(values.get("媒体", "") or "電子", Medium.choices, "媒体"),
        location=values.get("保存場所", ""), manager=values.get("管理者", ""),
        action=_choice(values.get("保存期間満了時の措置", ""), Action.choices, "保存期間満了時の措置"),
        note=note, share_path=values.get("共有フォルダ上の場所", ""), is_public=values.get("公開", "公開") != "非公開")
    return data, given_expiry


@transaction.atomic
def register_import(*, actor: ActorLike, body: bytes, filename: str) -> ImportResult:
    """Import a register file: every row is checked first; one wrong row and nothing is written.
    A row matching an active file (所属・年度・名称) updates it; a disposed or transferred file is
    never changed by an import."""
    parsed: list[tuple[int, dict[str, Any]]] = []
    errors: list[RowError] = []
    seen: set[tuple[int, int, str]] = set()
    for number, values in read_table(body, filename):
        try:
            data, given_expiry = _row_data(values)
            require_department(actor, data.department, Role.HANDLE)
            v = data.values()
        except ServiceError as exc:
            errors.append(RowError(number, exc.message))
            continue
        if given_expiry is not None and given_expiry != v["expiry_date"]:
            errors.append(RowError(number, str(format_lazy(
                _("保存期間満了日 {given} は起算日と保存期間から求めた {computed} と違います。"),
                given=given_expiry.isoformat(), computed=v["expiry_date"].isoformat() if v["expiry_date"] else "—"))))
            continue
        key = (v["department_id"], v["fiscal_year"], v["name"])
        if key in seen:
            errors.append(RowError(number, str(_("同じ所属・年度・名称の行がファイル内に2つあります。"))))
            continue
        seen.add(key)
        parsed.append((number, v))
    existing = {(f.department_id, f.fiscal_year, f.name): f for f in RecordFile.objects.filter(
        department_id__in={k[0] for k in seen}, fiscal_year__in={k[1] for k in seen}, name__in={k[2] for k in seen})}
    for number, v in parsed:
        f = existing.get((v["department_id"], v["fiscal_year"], v["name"]))
        if f is not None and f.state != RecordFile.State.ACTIVE:
            errors.append(RowError(number, str(format_lazy(_("「{name}」は{state}のため変更できません。"), name=f.name,
                                                           state=f.get_state_display()))))
    if errors:
        raise ImportRefused(sorted(errors, key=lambda e: e.row))
    result = ImportResult()
    for _number, v in parsed:
        f = existing.get((v["department_id"], v["fiscal_year"], v["name"]))
        if f is None:
            RecordFile.objects.create(**v)
            result.created += 1
            continue
        before = audit.snapshot(f, FIELDS)
        v.pop("classification_id")
        for k, value in v.items():
            setattr(f, k, value)
        changes = audit.diff(before, audit.snapshot(f, FIELDS))
        if changes:
            f.save()
            audit.record(actor=who(actor), action=actions.FILE_UPDATE, obj=f, changes=changes)
            result.updated += 1
        else:
            result.unchanged += 1
    audit.record(actor=who(actor), action=actions.REGISTER_IMPORT, object_type="records.recordfile",
                 object_repr=filename[:200], changes={"file": filename, "created": result.created,
                                                      "updated": result.updated, "unchanged": result.unchanged})
    return result
