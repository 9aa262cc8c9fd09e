"""Bulk entry from the Excel/CSV template: read the file, check every row, plan the changes.

Nothing here writes to the database; `services.import_preview` stores what `read_rows` and
`validate` produce, and `services.import_apply` carries out the `plan`. See docs/calendars.md
for the template's columns.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, time
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from hiroba.calendars import recurrence
from hiroba.calendars.errors import FileRejected, ParseError, RowError
from hiroba.calendars.models import Calendar, Event, School, Term, fiscal_year_of
from hiroba.calendars.parsing import normalize, parse_date, parse_date_list, parse_time
from hiroba.core import tabular
from hiroba.core.text import decode_japanese

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 3000
HEADER_SEARCH_ROWS = 20

__all__ = ["FileRejected", "RowError", "plan", "read_rows", "validate"]


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    required: bool
    help: str
    example: str
    aliases: tuple[str, ...] = ()


COLUMNS: tuple[Column, ...] = (
    Column("ref", "ID", False, "行を識別する任意の文字列（学校内で重複しないこと）。あれば再取込でこのIDの予定を更新します。"
           "なければ「対象・開始日・件名」が同じ予定を更新します。", "R7-001", ("取込ID", "番号")),
    Column("target", "対象", False, "全校、学年（1年）、学級（1年1組）。空欄は全校。この学校にあるカレンダーに限ります。",
           "全校", ("学年", "学年・学級", "対象学年")),
    Column("category", "区分", False, "行事・休業日・給食なし・保護者会・健診・短縮授業・その他、または 学期。空欄は行事。",
           "行事", ("種別", "カテゴリ", "カテゴリー")),
    Column("title", "件名", True, "予定の名前（200文字まで）。", "始業式", ("行事名", "タイトル", "予定")),
    Column("start_date", "開始日", True, "2025/4/7、2025-04-07、令和7年4月7日、R7.4.7、Excelの日付。",
           "2025/4/7", ("日付", "実施日", "月日")),
    Column("end_date", "終了日", False, "複数日にわたる予定の最終日（その日を含む）。空欄は開始日と同じ。", "", ("最終日",)),
    Column("start_time", "開始時刻", False, "9:30、13時、午後1時半など。空欄は終日の予定。", "8:30", ("開始時間",)),
    Column("end_time", "終了時刻", False, "開始時刻を入れたときは必須。", "10:00", ("終了時間",)),
    Column("location", "場所", False, "", "体育館", ("会場",)),
    Column("description", "説明", False, "持ち物、注意事項など。", "", ("内容", "備考")),
    Column("repeat", "繰り返し", False, "毎日・毎週・隔週・毎月、または RRULE（FREQ=WEEKLY;BYDAY=WE など）。", "", ()),
    Column("repeat_until", "繰り返し終了日", False, "繰り返しの最終日。", "", ()),
    Column("exdates", "除外日", False, "繰り返しのうち行わない日。「、」で区切って複数可。", "", ("除く日",)),
    Column("off_day", "土日・祝日", False, "繰り返しの日が土曜・日曜・祝日に当たるとき: 空欄（そのまま行う）・とばす・"
           "前の平日・次の平日。繰り返し終了日が必要です。", "次の平日", ("土日祝", "土日祝日", "休日の扱い")),
    Column("url_label", "リンク名", False, "お知らせ・資料などのリンクの表示名。", "", ()),
    Column("url", "リンクURL", False, "https:// で始まるURL。", "", ("URL",)),
    Column("status", "状態", False, "空欄・予定、仮、中止。", "", ()),
)
HEADERS = [c.header for c in COLUMNS]

CATEGORY_WORDS = {label: value for value, label in Event.Category.choices} | {
    "": Event.Category.EVENT, "学校行事": Event.Category.EVENT, "休業": Event.Category.HOLIDAY,
    "休み": Event.Category.HOLIDAY, "健康診断": Event.Category.HEALTH, "検診": Event.Category.HEALTH,
    "短縮": Event.Category.SHORT_DAY,
}
TERM_WORDS = {"学期"}
STATUS_WORDS = {"": Event.Status.CONFIRMED, "予定": Event.Status.CONFIRMED, "確定": Event.Status.CONFIRMED,
                "仮": Event.Status.TENTATIVE, "未定": Event.Status.TENTATIVE,
                "中止": Event.Status.CANCELLED, "取消": Event.Status.CANCELLED, "取消し": Event.Status.CANCELLED}
SCHOOL_WIDE_WORDS = {"", "全校", "全体", "全学年", "全員"}
OFF_DAY_WORDS = {
    "": Event.OffDay.KEEP, "そのまま": Event.OffDay.KEEP, "そのまま行う": Event.OffDay.KEEP,
    "とばす": Event.OffDay.SKIP, "飛ばす": Event.OffDay.SKIP, "行わない": Event.OffDay.SKIP, "休み": Event.OffDay.SKIP,
    "前の平日": Event.OffDay.PREVIOUS, "前の平日に移す": Event.OffDay.PREVIOUS, "前平日": Event.OffDay.PREVIOUS,
    "前日": Event.OffDay.PREVIOUS,
    "次の平日": Event.OffDay.NEXT, "次の平日に移す": Event.OffDay.NEXT, "翌平日": Event.OffDay.NEXT,
    "翌日": Event.OffDay.NEXT, "後の平日": Event.OffDay.NEXT,
    "skip": Event.OffDay.SKIP, "previous": Event.OffDay.PREVIOUS, "next": Event.OffDay.NEXT,
}
OFF_DAY_LABELS: dict[str, str] = {Event.OffDay.KEEP: "", Event.OffDay.SKIP: "とばす", Event.OffDay.PREVIOUS: "前の平日",
                  Event.OffDay.NEXT: "次の平日"}


@dataclass
class RawRow:
    line: int
    cells: dict[str, Any]


# --- reading --------------------------------------------------------------------------------

def _header_key(text: object) -> str | None:
    value = normalize(text).replace("*", "").replace("(必須)", "").replace("(任意)", "").strip()
    for column in COLUMNS:
        if value == column.header or value in column.aliases:
            return column.key
    return None


def _find_header(rows: list[list[Any]]) -> tuple[int, dict[int, str]]:
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        mapping = {i: key for i, cell in enumerate(row) if (key := _header_key(cell))}
        if {"title", "start_date"} <= set(mapping.values()):
            return index, mapping
    raise FileRejected(_("見出し行が見つかりません。テンプレートの見出し（件名・開始日 など）を消さずに使ってください。"),
                       code="no_header")


def read_rows(filename: str, content: bytes) -> tuple[list[RawRow], list[RowError]]:
    """The data rows of an .xlsx or .csv file (line numbers as Excel shows them), and any
    problems that belong to rows but are found while reading (merged cells)."""
    if len(content) > MAX_BYTES:
        raise FileRejected(format_lazy(
            _("ファイルが大きすぎます（{size} MB）。{limit} MB までのファイルにしてください。"),
            size=f"{len(content) / 1024 / 1024:.1f}", limit=MAX_BYTES // 1024 // 1024,
        ), code="file_too_large")
    if not content:
        raise FileRejected(_("ファイルが空です。"), code="file_empty")
    name = filename.lower()
    if name.endswith(".xlsx") or name.endswith(".xlsm"):
        return _read_xlsx(content)
    if name.endswith(".csv") or name.endswith(".txt"):
        return _read_csv(content), []
    if name.endswith(".xls"):
        raise FileRejected(_("古いExcel形式（.xls）は読めません。Excelで「.xlsx」または「CSV」形式で保存し直してください。"),
                           code="old_excel")
    raise FileRejected(_("Excel（.xlsx）またはCSV（.csv）のファイルを選んでください。"), code="file_type")


def _read_xlsx(content: bytes) -> tuple[list[RawRow], list[RowError]]:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            # A small upload that inflates to something huge is refused before openpyxl reads it.
            if sum(info.file_size for info in archive.infolist()) > MAX_BYTES * 20:
                raise FileRejected(_("ファイルの中身が大きすぎます。"), code="file_too_large")
        workbook = load_workbook(io.BytesIO(content), data_only=True)
    except FileRejected:
        raise
    except Exception:  # noqa: BLE001 — openpyxl raises many kinds for a damaged file
        raise FileRejected(_("Excelファイルとして読めません。ファイルが壊れていないか確認してください。"),
                           code="excel_unreadable") from None
    sheet = workbook["予定"] if "予定" in workbook.sheetnames else workbook.worksheets[0]
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    if len(values) > MAX_ROWS + HEADER_SEARCH_ROWS:
        raise FileRejected(format_lazy(_("行が多すぎます。1ファイル {limit} 行までにしてください。"), limit=MAX_ROWS),
                           code="too_many_rows")
    header_index, mapping = _find_header(values)
    problems: list[RowError] = []
    for merged in sheet.merged_cells.ranges:
        if merged.max_row <= header_index + 1:
            continue  # a merged title above the header is fine
        for line in range(max(merged.min_row, header_index + 2), merged.max_row + 1):
            problems.append(RowError(
                line, "", format_lazy(_("セルが結合されています（{cells}）。結合を解除し、各行にそれぞれ値を入れてください。"),
                                      cells=merged.coord), code="merged_cells",
            ))
    rows = []
    for index in range(header_index + 1, len(values)):
        cells = {key: values[index][col] if col < len(values[index]) else None for col, key in mapping.items()}
        if all(normalize(v) == "" for v in cells.values()):
            continue
        rows.append(RawRow(index + 1, cells))
    return rows, problems


def _decode(content: bytes) -> str:
    text = decode_japanese(content)
    if text is not None:
        return text
    raise FileRejected(_("文字コードを判別できません。UTF-8 または Shift_JIS のCSVにしてください。"), code="encoding")


def _read_csv(content: bytes) -> list[RawRow]:
    text = _decode(content)
    sample = text[:4096]
    delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
    values = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    if len(values) > MAX_ROWS + HEADER_SEARCH_ROWS:
        raise FileRejected(format_lazy(_("行が多すぎます。1ファイル {limit} 行までにしてください。"), limit=MAX_ROWS),
                           code="too_many_rows")
    header_index, mapping = _find_header(values)
    rows = []
    for index in range(header_index + 1, len(values)):
        row = values[index]
        cells = {key: row[col] if col < len(row) else "" for col, key in mapping.items()}
        if all(normalize(v) == "" for v in cells.values()):
            continue
        rows.append(RawRow(index + 1, cells))
    return rows


# --- checking -------------------------------------------------------------------------------

def calendar_lookup(school: School) -> dict[str, Calendar]:
    lookup: dict[str, Calendar] = {}
    for calendar in school.calendars.all():
        label = normalize(calendar.label).replace(" ", "")
        lookup[label] = calendar
        if calendar.audience == Calendar.Audience.GRADE:
            lookup[f"{calendar.grade}学年"] = calendar
            lookup[f"第{calendar.grade}学年"] = calendar
    return lookup


def _text(cells: dict[str, Any], key: str, limit: int, line: int, errors: list[RowError]) -> str:
    # A file this school exported carries the formula guard's apostrophe ('=...): take it off again.
    raw = tabular.unguard("" if cells.get(key) is None else str(cells.get(key)))
    if key == "description":
        value = raw.strip()  # keeps its line breaks
    elif key in ("ref", "url"):
        value = normalize(raw)  # machine values: full-width letters and digits become ASCII
    else:
        value = " ".join(raw.split())  # what families read keeps its full-width （） and ！
    if len(value) > limit:
        errors.append(RowError(line, _header(key), format_lazy(_("{limit}文字以内にしてください（{length}文字）"),
                                                               limit=limit, length=len(value)),
                               code="too_long", field=key))
    return value


def _header(key: str) -> str:
    return next(c.header for c in COLUMNS if c.key == key)


def _iso(value: date | time | None) -> str | None:
    if value is None:
        return None
    return value.isoformat(timespec="minutes") if isinstance(value, time) else value.isoformat()


def validate_row(row: RawRow, calendars: dict[str, Calendar]) -> tuple[dict[str, Any] | None, list[RowError]]:
    """One row in stored form (ISO strings), or None with the row's errors."""
    errors: list[RowError] = []
    cells, line = row.cells, row.line

    def fail(key: str, message: Any, code: str = RowError.code) -> None:
        errors.append(RowError(line, _header(key), message, code=code, field=key))

    def failed(key: str, exc: ParseError) -> None:
        fail(key, exc.message, exc.code)

    ref = _text(cells, "ref", 60, line, errors)
    title = _text(cells, "title", 200, line, errors)
    if not title:
        fail("title", _("件名がありません"), "title_required")
    category_word = normalize(cells.get("category"))
    is_term = category_word in TERM_WORDS
    category = CATEGORY_WORDS.get(category_word)
    if category is None and not is_term:
        fail("category", format_lazy(_("区分「{word}」は使えません（{labels}・学期）"), word=category_word,
                                     labels="・".join(str(label) for _value, label in Event.Category.choices)),
             "category_unknown")
    target = normalize(cells.get("target")).replace(" ", "")
    calendar = calendars.get("全校" if target in SCHOOL_WIDE_WORDS else target)
    if calendar is None:
        known = "、".join(sorted(calendars, key=len)[:12])
        fail("target", format_lazy(_("対象「{target}」はこの学校のカレンダーにありません（使える値: {known}）"),
                                   target=target, known=known), "target_unknown")
    elif is_term and calendar.audience != Calendar.Audience.SCHOOL:
        fail("target", _("学期は全校の行にしてください"), "term_not_school_wide")

    start = end = None
    try:
        start = parse_date(cells.get("start_date"))
    except ParseError as exc:
        failed("start_date", exc)
    try:
        end = parse_date(cells.get("end_date")) if normalize(cells.get("end_date")) else start
    except ParseError as exc:
        failed("end_date", exc)
    start_time = end_time = None
    try:
        start_time = parse_time(cells.get("start_time"))
    except ParseError as exc:
        failed("start_time", exc)
    try:
        end_time = parse_time(cells.get("end_time"))
    except ParseError as exc:
        failed("end_time", exc)
    if start and end and end < start:
        fail("end_date", format_lazy(_("終了日（{end_month}月{end_day}日）が開始日（{start_month}月{start_day}日）より前です"),
                                     end_month=end.month, end_day=end.day, start_month=start.month,
                                     start_day=start.day), "end_before_start")
    if start_time and not end_time and not any(e.column == "終了時刻" for e in errors):
        fail("end_time", _("開始時刻を入れたときは終了時刻も入れてください"), "end_time_required")
    if end_time and not start_time and not any(e.column == "開始時刻" for e in errors):
        fail("start_time", _("終了時刻だけが入っています。開始時刻も入れてください"), "start_time_required")
    if start and end and start == end and start_time and end_time and end_time <= start_time:
        fail("end_time", format_lazy(_("終了時刻（{end}）が開始時刻（{start}）より前です"), end=f"{end_time:%H:%M}",
                                     start=f"{start_time:%H:%M}"), "end_time_before_start")
    if start and end and (end - start).days > 366:
        fail("end_date", _("1年を超える予定は登録できません"), "too_long_period")

    rule = ""
    exdates: list[date] = []
    if start:
        try:
            rule = recurrence.parse(str(cells.get("repeat") or ""), start=start, until=cells.get("repeat_until"))
        except ParseError as exc:
            failed("repeat", exc)
        try:
            exdates = parse_date_list(cells.get("exdates"))
        except ParseError as exc:
            failed("exdates", exc)
        if exdates and not rule:
            fail("exdates", _("除外日は繰り返しの予定にだけ指定できます"), "exdates_not_repeating")
    off_day_word = normalize(cells.get("off_day")).replace(" ", "")
    off_day = OFF_DAY_WORDS.get(off_day_word.lower())
    if off_day is None:
        fail("off_day", format_lazy(_("土日・祝日「{word}」は使えません（空欄・とばす・前の平日・次の平日）"), word=off_day_word),
             "off_day_unknown")
    elif start and not any(e.column == "繰り返し" for e in errors):
        try:
            recurrence.check_off_day(off_day, rule, start)
        except ParseError as exc:
            failed("off_day", exc)
    url = _text(cells, "url", 500, line, errors)
    url_label = _text(cells, "url_label", 100, line, errors)
    if url:
        try:
            URLValidator(schemes=["http", "https"])(url)
        except ValidationError:
            fail("url", format_lazy(_("リンクURL「{url}」は http:// または https:// で始まるURLにしてください"), url=url),
                 "url_invalid")
    status_word = normalize(cells.get("status"))
    status = STATUS_WORDS.get(status_word)
    if status is None:
        fail("status", format_lazy(_("状態「{word}」は使えません（空欄・予定・仮・中止）"), word=status_word), "status_unknown")
    if is_term and (start_time or rule):
        fail("category", _("学期の行には時刻や繰り返しを入れないでください"), "term_with_time")
    location = _text(cells, "location", 200, line, errors)
    description = _text(cells, "description", 5000, line, errors)
    if errors:
        return None, errors
    assert calendar is not None and start is not None and end is not None
    return {
        "line": line, "kind": "term" if is_term else "event", "ref": ref,
        "calendar_id": calendar.pk, "calendar_label": calendar.label,
        "category": "" if is_term else category, "title": title,
        "start_date": _iso(start), "end_date": _iso(end),
        "start_time": _iso(start_time), "end_time": _iso(end_time),
        "location": location, "description": description, "rrule": rule,
        "exdates": sorted({d.isoformat() for d in exdates}),
        "off_day": off_day or "", "url": url, "url_label": url_label, "status": status,
    }, []


def identity(row: dict[str, Any]) -> tuple[Any, ...]:
    """What makes a row the same as another: its ID, or 対象 + 開始日 + 件名."""
    if row["kind"] == "term":
        return ("term", fiscal_year_of(date.fromisoformat(row["start_date"])), row["title"])
    if row["ref"]:
        return ("ref", row["ref"])
    return ("natural", row["calendar_id"], row["start_date"], row["title"])


def validate(school: School, raw_rows: Iterable[RawRow], problems: Iterable[RowError] = ()) -> tuple[
        list[dict[str, Any]], list[dict[str, Any]]]:
    """Every row checked: (rows in stored form, errors). Duplicates are errors on the later row."""
    calendars = calendar_lookup(school)
    rows: list[dict[str, Any]] = []
    errors: list[RowError] = list(problems)
    seen: dict[tuple[Any, ...], int] = {}
    count = 0
    for raw in raw_rows:
        count += 1
        row, row_errors = validate_row(raw, calendars)
        errors.extend(row_errors)
        if row is None:
            continue
        key = identity(row)
        if key in seen:
            message = (_("{line}行目とIDが同じ行です（重複）。どちらか一方にしてください") if key[0] == "ref"
                       else _("{line}行目と対象・開始日・件名が同じ行です（重複）。どちらか一方にしてください"))
            errors.append(RowError(raw.line, "", format_lazy(message, line=seen[key]), code="duplicate_row"))
            continue
        seen[key] = raw.line
        rows.append(row)
    if count == 0:
        errors.append(RowError(None, "", _("予定の行がありません。見出し行の下に予定を入れてください。"), code="no_rows"))
    errors.sort(key=lambda e: (e.line or 0, HEADERS.index(e.column) if e.column in HEADERS else -1))
    return rows, [e.as_dict() for e in errors]


# --- planning -------------------------------------------------------------------------------

FIELDS = ["calendar_id", "category", "title", "start_date", "end_date", "start_time", "end_time",
          "location", "description", "rrule", "exdates", "off_day", "url", "url_label", "status"]


def event_values(event: Event) -> dict[str, Any]:
    return {
        "calendar_id": event.calendar_id, "category": event.category, "title": event.title,
        "start_date": _iso(event.start_date), "end_date": _iso(event.end_date),
        "start_time": _iso(event.start_time), "end_time": _iso(event.end_time),
        "location": event.location, "description": event.description, "rrule": event.rrule,
        "exdates": sorted(event.exdates), "off_day": event.off_day, "url": event.url, "url_label": event.url_label,
        "status": event.status,
    }


@dataclass
class PlannedRow:
    row: dict[str, Any]
    action: str  # create | update | unchanged
    target: Event | Term | None = None
    changes: dict[str, list[Any]] = field(default_factory=dict)


@dataclass
class Plan:
    rows: list[PlannedRow]
    missing: list[Event]
    errors: list[dict[str, Any]]

    def count(self, action: str) -> int:
        return sum(1 for r in self.rows if r.action == action)


def plan(school: School, rows: list[dict[str, Any]]) -> Plan:
    """Match each row to an existing event (by ID, else 対象+開始日+件名) or term, and say what changes."""
    events = list(Event.objects.filter(school=school).select_related("calendar"))
    by_ref = {e.ref: e for e in events if e.ref}
    by_natural: dict[tuple[Any, ...], Event] = {}
    for known in events:
        by_natural.setdefault((known.calendar_id, known.start_date.isoformat(), known.title), known)
    terms = {(t.fiscal_year, t.name): t for t in Term.objects.filter(school=school)}
    calendar_ids = set(school.calendars.values_list("id", flat=True))
    planned: list[PlannedRow] = []
    errors: list[dict[str, Any]] = []
    matched: set[int] = set()
    years: set[int] = set()
    for row in rows:
        if row["calendar_id"] not in calendar_ids:
            errors.append(RowError(row["line"], "対象", format_lazy(_("対象「{label}」のカレンダーがなくなりました"),
                                                                  label=row["calendar_label"]),
                                   code="calendar_gone", field="target").as_dict())
            continue
        start = date.fromisoformat(row["start_date"])
        years.add(fiscal_year_of(start))
        if row["kind"] == "term":
            term = terms.get((fiscal_year_of(start), row["title"]))
            if term is None:
                planned.append(PlannedRow(row, "create"))
                continue
            old = {"start_date": term.start_date.isoformat(), "end_date": term.end_date.isoformat()}
            new = {"start_date": row["start_date"], "end_date": row["end_date"]}
            changes = {k: [old[k], new[k]] for k in old if old[k] != new[k]}
            planned.append(PlannedRow(row, "update" if changes else "unchanged", term, changes))
            continue
        event: Event | None = by_ref.get(row["ref"]) if row["ref"] else None
        if event is None:
            # Without a known ID, the same 対象 + 開始日 + 件名 is the same event — unless that
            # event already carries a different ID (then it is another row's event).
            candidate = by_natural.get((row["calendar_id"], row["start_date"], row["title"]))
            if candidate is not None and (not row["ref"] or not candidate.ref):
                event = candidate
        if event is not None and event.pk in matched:
            errors.append(RowError(row["line"], "", format_lazy(_("この行は別の行と同じ既存の予定（{title}）に当たります"),
                                                              title=event.title), code="same_event").as_dict())
            continue
        if event is None:
            planned.append(PlannedRow(row, "create"))
            continue
        matched.add(event.pk)
        old = event_values(event)
        # A preview stored before a column existed reads as that column left blank.
        changes = {k: [old[k], row.get(k, "")] for k in FIELDS if old[k] != row.get(k, "")}
        planned.append(PlannedRow(row, "update" if changes else "unchanged", event, changes))
    missing = [
        e for e in events
        if e.source == Event.Source.IMPORT and e.pk not in matched and not e.is_cancelled
        and e.fiscal_year in years
    ]
    return Plan(planned, missing, errors)


# --- the sample template ----------------------------------------------------------------------

def column_help() -> list[dict[str, str]]:
    return [{"header": c.header, "required": "必須" if c.required else "任意", "help": c.help, "example": c.example}
            for c in COLUMNS]
