"""The published results (意見と区の考え方) in every format: HTML, CSV, Excel, PDF, JSON and the
open-data CSV.

Every format is rendered from one `Publication`. Before publication it is built from the live
rows (`build`: the masked texts, the answers, the counts) — that is what staff preview and what
an approval round approves, by its SHA-256 (`digest`). At publication the `Publication` is
stored as canonical JSON (`canonical`) with the bytes of every format (`render_all`), and from
then on the results page is rendered from the stored JSON (`from_dict`) and every download is
the stored bytes: what a resident sees is what was approved, whatever happens to the live rows.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import zipfile
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from html import escape
from typing import Any

from django.db.models import Count, Prefetch, Q
from django.template.loader import render_to_string
from django.utils import translation

from hiroba.accounts.models import IdentityLevel
from hiroba.consultations import services
from hiroba.consultations.models import Case, Channel, ExcludeCategory, Item, Mask, Section
from hiroba.core import dates, tabular

FORMATS = ("html", "csv", "xlsx", "pdf", "json", "opendata-csv")
CONTENT_TYPES = {
    "html": "text/html; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "json": "application/json; charset=utf-8",
    "opendata-csv": "text/csv; charset=utf-8",
}
FILE_SUFFIXES = {fmt: f"results.{fmt}" for fmt in FORMATS} | {"opendata-csv": "results-opendata.csv"}
FORMULA_STARTS = tabular.FORMULA_STARTS
# The published table's headings, as the ward prints them (the CSV, Excel, HTML and PDF).
HEADERS = ["No.", "該当箇所", "意見内容", "区の考え方"]
IDENTICAL_HEADER = "同一の意見の件数"
# The open-data CSV and the JSON keep English field names (the fixture format, the API).
OPEN_DATA_HEADERS = ["no", "section", "opinion", "response"]
WHOLE = "全体"  # the 該当箇所 of an opinion on the draft as a whole
# What the approval digest leaves out: set at publication, not part of the approved table.
NOT_APPROVED = ("version", "reported_on", "corrections")


@dataclass
class Row:
    no: int
    section: str
    sections: list[str]
    opinion: str
    response: str
    summarised: bool = False
    reflection: str = ""
    identical: int = 1  # opinions this row stands for (「同一の意見 n 件」), itself included


@dataclass
class Publication:
    slug: str = ""
    title: str = ""
    municipality: str = ""
    department: str = ""
    period_start: str = ""
    period_end: str = ""  # the planned last day
    period_label: str = ""  # the period opinions were actually taken
    channels: list[str] = field(default_factory=list)
    announced_in: list[str] = field(default_factory=list)
    identity_level: str = ""
    identity_label: str = ""
    submitters: int = 0  # every counted submitter, also those none of whose opinions is published
    item_count: int = 0  # every opinion received (published or not; withdrawn ones are not counted)
    by_channel: list[tuple[str, int]] = field(default_factory=list)
    by_section: list[tuple[str, int]] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    reported_on: str = ""  # 公表日 of the first version
    section_names: list[str] = field(default_factory=list)
    row_count: int = 0  # rows of the table: fewer than published_count when identical opinions share a row
    published_count: int = 0  # opinions published (every one, also those shown in another's row)
    unpublished_count: int = 0  # opinions not published (対象外)
    unpublished_by_reason: list[tuple[str, int]] = field(default_factory=list)
    last_day: str = ""  # the day it actually closed (= period_end unless closed early)
    closed_early: bool = False
    close_reason: str = ""
    planned_label: str = ""  # the planned period, stated when it closed early
    version: int = 0  # 0: not published (a preview); 1, 2, …: the published version
    corrections: list[dict[str, Any]] = field(default_factory=list)  # [{"version", "date", "note"}]

    @property
    def has_identical_rows(self) -> bool:
        return any(r.identical > 1 for r in self.rows)

    @property
    def start_date(self) -> date:
        return date.fromisoformat(self.period_start)

    @property
    def last_date(self) -> date:
        return date.fromisoformat(self.last_day or self.period_end)

    @property
    def planned_end_date(self) -> date:
        return date.fromisoformat(self.period_end)

    @property
    def reported_date(self) -> date | None:
        return date.fromisoformat(self.reported_on) if self.reported_on else None

    @property
    def correction_list(self) -> list[dict[str, Any]]:
        """The 訂正 notes with their dates as `date` objects (for the 和暦 filters)."""
        return [{**c, "day": date.fromisoformat(c["date"])} for c in self.corrections]


def one_row_per_identical(items: list[Item]) -> tuple[list[Item], dict[int, int]]:
    """The items that get a row, and how many opinions each row stands for (itself included).

    An item is folded into the row of its `represented_by` item (「同一の意見 n 件」) only when
    that item is published too and both carry the same answer: a row never hides an opinion
    answered differently.
    """
    by_pk = {i.pk: i for i in items}

    def folded(item: Item) -> bool:
        lead = by_pk.get(item.represented_by_id or 0)
        return lead is not None and lead.represented_by_id is None and lead.answer_id == item.answer_id

    kept = [i for i in items if not folded(i)]
    identical = {i.pk: 1 for i in kept}
    for item in items:
        if folded(item):
            identical[item.represented_by_id] += 1  # type: ignore[index]
    return kept, identical


def period_label(start: date, end: date) -> str:
    return f"{dates.wareki(start)}～{dates.wareki(end)}（{dates.seireki(start)}～{dates.seireki(end)}）"


def counted_submissions(case: Case) -> list[Any]:
    """Everyone who submitted: the counted submissions (identity confirmed where the case needs
    it), also those none of whose opinions is published; a submission all of whose items were
    withdrawn (an upheld なりすまし申告, say) is nobody's and is left out."""
    subs = case.submissions.counted().annotate(
        n_items=Count("items"), n_withdrawn=Count("items", filter=Q(items__withdrawn=True))
    ).order_by("receipt_seq")
    return [s for s in subs if not (s.n_items and s.n_items == s.n_withdrawn)]


def japanese(label: Any) -> str:
    """A translatable choice label as the Japanese record states it, whatever the page's language."""
    with translation.override("ja"):
        return str(label)


def build(case: Case) -> Publication:
    """Everything the ward would publish for a case now, from the live rows, personal
    information masked."""
    items = list(
        case.items.filter(withdrawn=False)
        .select_related("answer", "submission")
        .prefetch_related(Prefetch("sections", queryset=Section.objects.order_by("position")),
                          Prefetch("masks", queryset=Mask.objects.all()))
        .order_by("number")
    )
    published = [i for i in items if not i.excluded]
    unpublished = [i for i in items if i.excluded]
    row_items, identical = one_row_per_identical(published)
    rows: list[Row] = []
    for no, item in enumerate(row_items, start=1):
        use_summary = bool(item.summary)
        rows.append(Row(
            no=no,
            section=item.display_section or WHOLE,
            sections=[s.heading for s in item.sections.all()],
            opinion=services.masked_text(item, "summary" if use_summary else "text"),
            response=item.answer.text if item.answer else "",
            summarised=use_summary,
            reflection=item.get_reflection_display() if item.reflection else "",
            identical=identical[item.pk],
        ))
    counted = counted_submissions(case)
    by_channel_counter = Counter(s.channel for s in counted)
    channel_order = [*case.channels, *[c for c in Channel.values if c not in case.channels]]
    by_channel = [(case.channel_label(c), by_channel_counter[c]) for c in channel_order if by_channel_counter[c]]
    section_counter: Counter[str] = Counter()
    for item in published:
        headings = [s.heading for s in item.sections.all()] or [WHOLE]
        for heading in headings:
            section_counter[heading] += 1
    section_names = list(case.sections.order_by("position").values_list("heading", flat=True))
    order = section_names if WHOLE in section_names else [WHOLE, *section_names]
    by_section = [(name, section_counter[name]) for name in order if section_counter[name]]
    reasons = Counter(i.exclude_category or ExcludeCategory.OTHER for i in unpublished)
    unpublished_by_reason = [(label, reasons[value]) for value, label in ExcludeCategory.choices if reasons[value]]
    last_day = case.last_day
    return Publication(
        slug=case.slug,
        title=case.title,
        municipality=case.municipality,
        department=case.department.name,
        period_start=case.period_start.isoformat(),
        period_end=case.period_end.isoformat(),
        period_label=period_label(case.period_start, last_day),
        channels=case.channel_labels,
        announced_in=list(case.announced_in),
        identity_level=case.identity_level,
        identity_label=japanese(IdentityLevel(case.identity_level).label),
        submitters=case.declared_submitters if case.declared_submitters is not None else len(counted),
        item_count=len(items),
        published_count=len(published),
        unpublished_count=len(unpublished),
        unpublished_by_reason=unpublished_by_reason,
        row_count=len(rows),
        by_channel=by_channel,
        by_section=by_section,
        rows=rows,
        reported_on=case.reported_on.isoformat() if case.reported_on else "",
        section_names=section_names,
        last_day=last_day.isoformat(),
        closed_early=case.closed_early,
        close_reason=case.close_reason if case.closed_early else "",
        planned_label=period_label(case.period_start, case.period_end) if case.closed_early else "",
    )


# --- the stored form ---------------------------------------------------------------------------

def canonical(value: Any) -> str:
    """Canonical JSON: sorted keys, no spaces, UTF-8 text as is. Equal data, equal text."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def as_dict(pub: Publication) -> dict[str, Any]:
    return json.loads(canonical(asdict(pub)))  # tuples as lists, exactly as stored


def approved_part(pub: Publication) -> dict[str, Any]:
    """The table an approval round approves: everything published but the version, the date
    and the 訂正 notes, which publication adds."""
    return {k: v for k, v in as_dict(pub).items() if k not in NOT_APPROVED}


def digest(pub: Publication) -> str:
    """SHA-256 of the approved part's canonical JSON: rows, counts, sections, texts with masks
    applied, answers — whatever would change a published row changes it."""
    return hashlib.sha256(canonical(approved_part(pub)).encode("utf-8")).hexdigest()


def from_dict(data: dict[str, Any]) -> Publication:
    """A stored publication back as a `Publication` (fields added later take their defaults)."""
    names = {f.name for f in dataclasses.fields(Publication)}
    values = {k: v for k, v in data.items() if k in names}
    row_names = {f.name for f in dataclasses.fields(Row)}
    values["rows"] = [Row(**{k: v for k, v in r.items() if k in row_names}) for r in data.get("rows", [])]
    for key in ("by_channel", "by_section", "unpublished_by_reason"):
        values[key] = [(label, n) for label, n in data.get(key, [])]
    return Publication(**values)


def row_changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """What differs between two approved parts, in words staff read (for a refused publication
    and for the approvers of a 訂正)."""
    changes: list[str] = []
    labels = {"opinion": "意見内容", "response": "区の考え方", "section": "該当箇所", "identical": "同一の意見の件数",
              "summarised": "要旨の表示", "reflection": "反映区分", "sections": "該当箇所"}
    old_rows = {r["no"]: r for r in before.get("rows", [])}
    new_rows = {r["no"]: r for r in after.get("rows", [])}
    for no in sorted(old_rows.keys() | new_rows.keys()):
        old, new = old_rows.get(no), new_rows.get(no)
        if old is None:
            changes.append(f"No.{no}（行の追加）")
        elif new is None:
            changes.append(f"No.{no}（行の削除）")
        else:
            fields_changed = list(dict.fromkeys(labels.get(k, k) for k in new if old.get(k) != new.get(k)))
            if fields_changed:
                changes.append(f"No.{no}（{'・'.join(fields_changed)}）")
    counts = {"submitters": "提出者数", "item_count": "意見件数", "unpublished_count": "公表しない意見の件数",
              "by_channel": "提出方法別の提出者数", "by_section": "該当箇所別の意見件数", "title": "件名",
              "department": "担当所属", "period_label": "募集期間", "channels": "提出方法",
              "section_names": "該当箇所の見出し", "unpublished_by_reason": "公表しない理由の区分"}
    changes += [label for key, label in counts.items() if before.get(key) != after.get(key)]
    return changes


# --- the formats -------------------------------------------------------------------------------

neutralise = tabular.guard  # a cell a spreadsheet would run as a formula is prefixed with an apostrophe


def csv_bytes(header: list[str], rows: list[list[Any]]) -> bytes:
    """UTF-8 with BOM (Excel opens it in Japanese), CRLF, every text cell formula-guarded."""
    return tabular.to_csv(tabular.Table(columns=[tabular.Column(h) for h in header], rows=rows))


def to_csv(pub: Publication) -> bytes:
    """The ward's table with its Japanese headings (No., 該当箇所, 意見内容, 区の考え方)."""
    with_count = pub.has_identical_rows
    return csv_bytes(
        [*HEADERS, *([IDENTICAL_HEADER] if with_count else [])],
        [[r.no, r.section, r.opinion, r.response, *([r.identical] if with_count else [])] for r in pub.rows],
    )


def to_opendata_csv(pub: Publication) -> bytes:
    """The same table for open data, with English field names: the fixture format
    (`no,section,opinion,response`), so it can be imported again."""
    with_count = pub.has_identical_rows
    return csv_bytes(
        [*OPEN_DATA_HEADERS, *(["identical_count"] if with_count else [])],
        [[r.no, r.section, r.opinion, r.response, *([r.identical] if with_count else [])] for r in pub.rows],
    )


def to_json(pub: Publication) -> bytes:
    """The fixture format (consultation + items), so a published case can be imported again."""
    data = {
        "consultation": {
            "slug": pub.slug, "title": pub.title, "municipality": pub.municipality, "department": pub.department,
            "period": {"start": pub.period_start, "end": pub.last_day or pub.period_end},
            "channels": pub.channels, "announced_in": pub.announced_in, "submitters": pub.submitters,
            "sections": pub.section_names, "reported_on": pub.reported_on or None,
            "identity_level": pub.identity_level, "items_total": pub.item_count,
            "items_published": pub.published_count, "items_unpublished": pub.unpublished_count,
            "items_unpublished_by_reason": dict(pub.unpublished_by_reason), "rows_total": pub.row_count,
            "submitters_by_channel": dict(pub.by_channel), "items_by_section": dict(pub.by_section),
            **({"planned_period": {"start": pub.period_start, "end": pub.period_end},
                "close_reason": pub.close_reason} if pub.closed_early else {}),
            **({"version": pub.version} if pub.version else {}),
            **({"corrections": pub.corrections} if pub.corrections else {}),
        },
        "items": [
            {"no": r.no, "section_raw": r.section, "sections": r.sections,
             **({"summary": r.opinion} if r.summarised else {"opinion": r.opinion}),
             "response": r.response, **({"reflection": r.reflection} if r.reflection else {}),
             **({"identical_count": r.identical} if r.identical > 1 else {})}
            for r in pub.rows
        ],
    }
    return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"


def count_lines(pub: Publication) -> list[str]:
    """The counts as the Excel sheet's header lines state them."""
    folded = f"（同一の意見をまとめて{pub.row_count}行で掲載）" if pub.row_count != pub.published_count else ""
    lines = [f"提出者数：{pub.submitters}名　意見件数：{pub.item_count}件{folded}"]
    if pub.unpublished_count:
        reasons = "、".join(f"{label} {n}件" for label, n in pub.unpublished_by_reason)
        lines.append(f"うち公表しない意見 {pub.unpublished_count}件（{reasons}）")
    return lines


def _fixed_zip(data: bytes, when: tuple[int, int, int]) -> bytes:
    """The same archive with every entry dated `when`, so equal content gives equal bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(*when, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


def _document_date(pub: Publication) -> date:
    """The date a document carries in its metadata: the version's own date (deterministic)."""
    if pub.corrections:
        return date.fromisoformat(pub.corrections[-1]["date"])
    return pub.reported_date or pub.start_date


def to_xlsx(pub: Publication) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.worksheet.table import Table, TableStyleInfo

    wb = Workbook()
    ws = wb.active
    ws.title = "意見と区の考え方"
    tabular.append_row(ws, [pub.title])
    tabular.append_row(ws, [f"募集期間：{pub.period_label}"])
    if pub.closed_early:
        tabular.append_row(ws, [f"当初の募集期間：{pub.planned_label}　受付を早く終了した理由：{pub.close_reason}"])
    for line in count_lines(pub):
        tabular.append_row(ws, [line])
    for c in pub.correction_list:
        tabular.append_row(ws, [f"{dates.wareki(c['day'])}訂正：{c['note']}"])
    ws.append([])
    with_count = pub.has_identical_rows
    header_row = tabular.append_row(ws, [*HEADERS, *([IDENTICAL_HEADER] if with_count else [])])
    for row in pub.rows:  # text guarded and stored as strings: never a formula, whatever the text
        tabular.append_row(ws, [row.no, row.section, row.opinion, row.response,
                                *([row.identical] if with_count else [])])
    for cells in ws.iter_rows(min_row=header_row + 1):
        for cell in cells:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws["A1"].font = Font(bold=True, size=14)
    for col, width in zip("ABCDE", (6, 20, 80, 60, 10), strict=True):
        ws.column_dimensions[col].width = width
    if pub.rows:
        last_col = "E" if with_count else "D"
        table = Table(displayName="Results", ref=f"A{header_row}:{last_col}{header_row + len(pub.rows)}")
        table.tableStyleInfo = TableStyleInfo(name="TableStyleLight9", showRowStripes=True)
        ws.add_table(table)
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.freeze_panes = f"A{header_row + 1}"
    summary = wb.create_sheet("集計")
    tabular.append_row(summary, ["提出方法", "提出者数"])
    for label, n in pub.by_channel:
        tabular.append_row(summary, [label, n])
    summary.append([])
    tabular.append_row(summary, ["該当箇所", "意見件数"])
    for label, n in pub.by_section:
        tabular.append_row(summary, [label, n])
    if pub.unpublished_by_reason:
        summary.append([])
        tabular.append_row(summary, ["公表しない意見の理由", "意見件数"])
        for label, n in pub.unpublished_by_reason:
            tabular.append_row(summary, [label, n])
    day = _document_date(pub)
    wb.properties.created = wb.properties.modified = datetime(day.year, day.month, day.day)
    out = io.BytesIO()
    # ExcelWriter rather than wb.save(), which stamps the time of saving into the file.
    from openpyxl.writer.excel import ExcelWriter

    ExcelWriter(wb, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, allowZip64=True)).save()
    return _fixed_zip(out.getvalue(), (day.year, day.month, day.day))


def bar_chart(title: str, data: list[tuple[str, int]], *, chart_id: str, unit: str) -> str:
    """A horizontal bar chart as inline SVG (server-rendered; the data table sits beside it)."""
    bar_h, gap, label_w, chart_w = 28, 10, 220, 360
    height = max(1, len(data)) * (bar_h + gap) + 20
    top = max((n for _, n in data), default=0) or 1
    parts = [
        f'<svg class="chart" role="img" aria-labelledby="{chart_id}-title" width="{label_w + chart_w + 80}" '
        f'height="{height}" viewBox="0 0 {label_w + chart_w + 80} {height}" xmlns="http://www.w3.org/2000/svg" '
        f'font-family="Noto Sans CJK JP, sans-serif">',
        f'<title id="{chart_id}-title">{escape(title)}（詳細は下の表）</title>',
    ]
    for i, (label, n) in enumerate(data):
        y = 10 + i * (bar_h + gap)
        w = round(chart_w * n / top)
        parts.append(f'<text x="{label_w - 8}" y="{y + bar_h * 0.7:.0f}" text-anchor="end" font-size="14" '
                     f'fill="#1a1a1a">{escape(label)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y}" width="{w}" height="{bar_h}" fill="#0031d8"/>')
        parts.append(f'<text x="{label_w + w + 6}" y="{y + bar_h * 0.7:.0f}" font-size="14" '
                     f'fill="#1a1a1a">{n}{escape(unit)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def charts(pub: Publication) -> dict[str, str]:
    return {
        "section_chart": bar_chart("該当箇所別の意見件数", pub.by_section, chart_id="chart-sections", unit="件"),
        "channel_chart": bar_chart("提出方法別の提出者数", pub.by_channel, chart_id="chart-channels", unit="名"),
    }


def context(pub: Publication) -> dict[str, Any]:
    return {"pub": pub, **charts(pub), "headers": HEADERS}


def to_html(pub: Publication) -> bytes:
    """A standalone HTML file (styles inside, no external assets)."""
    return render_to_string("consultations/export/results.html", context(pub)).encode("utf-8")


def pdf_document(pub: Publication) -> Any:
    """The laid-out WeasyPrint document (tests inspect its pages)."""
    from hiroba.core import pdf

    return pdf.document(render_to_string("consultations/export/results_pdf.html", context(pub)))


def to_pdf(pub: Publication, *, uncompressed: bool = False) -> bytes:
    """A4 landscape, Noto Sans CJK embedded (subset), header row repeated, long cells wrapped."""
    return pdf_document(pub).write_pdf(uncompressed_pdf=uncompressed)


RENDERERS = {"html": to_html, "csv": to_csv, "xlsx": to_xlsx, "pdf": to_pdf, "json": to_json,
             "opendata-csv": to_opendata_csv}


def render_publication(pub: Publication, fmt: str) -> bytes:
    if fmt not in RENDERERS:
        raise ValueError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")
    with translation.override("ja"):  # the published document is the ward's Japanese record
        return RENDERERS[fmt](pub)


def render_all(pub: Publication) -> dict[str, bytes]:
    """Every format of a publication, as stored at publication."""
    return {fmt: render_publication(pub, fmt) for fmt in FORMATS}


def render(case: Case, fmt: str) -> bytes:
    """A preview of the table as it would be published now, from the live rows."""
    return render_publication(build(case), fmt)


def file_name(slug: str, fmt: str, version: int | None = None) -> str:
    return f"{slug}-{f'v{version}-' if version else ''}{FILE_SUFFIXES[fmt]}"


def published_items(case: Case) -> list[Item]:
    return list(case.items.filter(excluded=False, withdrawn=False).order_by("number"))
