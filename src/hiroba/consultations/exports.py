"""The published results (意見と区の考え方) in every format: HTML, CSV, Excel, PDF, JSON.

Every format is rendered from one `Publication`, built from the masked texts and the approved
answers, so what a resident downloads matches the page exactly.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from html import escape
from typing import Any

from django.db.models import Prefetch
from django.template.loader import render_to_string

from hiroba.consultations import services
from hiroba.consultations.models import Case, Channel, IdentityLevel, Item, Mask, Section
from hiroba.core import dates

FORMATS = ("html", "csv", "xlsx", "pdf", "json")
CONTENT_TYPES = {
    "html": "text/html; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "json": "application/json; charset=utf-8",
}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
HEADERS = ["No.", "該当箇所", "意見内容", "区の考え方"]


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
    slug: str
    title: str
    municipality: str
    department: str
    period_start: str
    period_end: str
    period_label: str
    channels: list[str]
    announced_in: list[str]
    identity_level: str
    identity_label: str
    submitters: int
    item_count: int  # opinions published (every one counted, also those shown in another's row)
    by_channel: list[tuple[str, int]]
    by_section: list[tuple[str, int]]
    rows: list[Row] = field(default_factory=list)
    reported_on: str = ""
    section_names: list[str] = field(default_factory=list)
    row_count: int = 0  # rows of the table: fewer than item_count when identical opinions share a row

    @property
    def has_identical_rows(self) -> bool:
        return any(r.identical > 1 for r in self.rows)


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


def build(case: Case) -> Publication:
    """Everything the ward publishes for a case, personal information masked."""
    items = list(
        case.items.filter(excluded=False, withdrawn=False)
        .select_related("answer", "submission")
        .prefetch_related(Prefetch("sections", queryset=Section.objects.order_by("position")),
                          Prefetch("masks", queryset=Mask.objects.all()))
        .order_by("number")
    )
    row_items, identical = one_row_per_identical(items)
    rows: list[Row] = []
    for no, item in enumerate(row_items, start=1):
        use_summary = bool(item.summary)
        rows.append(Row(
            no=no,
            section=item.display_section,
            sections=[s.heading for s in item.sections.all()],
            opinion=services.masked_text(item, "summary" if use_summary else "text"),
            response=item.answer.text if item.answer else "",
            summarised=use_summary,
            reflection=item.get_reflection_display() if item.reflection else "",
            identical=identical[item.pk],
        ))
    submissions = {item.submission_id: item.submission for item in items}
    counted = [s for s in submissions.values() if s.is_counted]
    by_channel_counter = Counter(s.channel for s in counted)
    channel_order = [*case.channels, *[c for c in Channel.values if c not in case.channels]]
    by_channel = [(case.channel_label(c), by_channel_counter[c]) for c in channel_order if by_channel_counter[c]]
    section_counter: Counter[str] = Counter()
    for item in items:
        for section in item.sections.all():
            section_counter[section.heading] += 1
    section_names = list(case.sections.order_by("position").values_list("heading", flat=True))
    by_section = [(name, section_counter[name]) for name in section_names if section_counter[name]]
    return Publication(
        slug=case.slug,
        title=case.title,
        municipality=case.municipality,
        department=case.department.name,
        period_start=case.period_start.isoformat(),
        period_end=case.period_end.isoformat(),
        period_label=f"{dates.wareki(case.period_start)}～{dates.wareki(case.period_end)}"
                     f"（{dates.seireki(case.period_start)}～{dates.seireki(case.period_end)}）",
        channels=case.channel_labels,
        announced_in=list(case.announced_in),
        identity_level=case.identity_level,
        identity_label=IdentityLevel(case.identity_level).label,
        submitters=len(counted),
        item_count=len(items),
        row_count=len(rows),
        by_channel=by_channel,
        by_section=by_section,
        rows=rows,
        reported_on=case.reported_on.isoformat() if case.reported_on else "",
        section_names=section_names,
    )


def neutralise(value: Any) -> Any:
    """A cell a spreadsheet would run as a formula is prefixed with an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(pub: Publication) -> bytes:
    """UTF-8 with BOM (Excel opens it in Japanese), CRLF, the fixture's columns."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    with_count = pub.has_identical_rows
    writer.writerow(["no", "section", "opinion", "response", *(["identical_count"] if with_count else [])])
    for row in pub.rows:
        writer.writerow([row.no, neutralise(row.section), neutralise(row.opinion), neutralise(row.response),
                         *([row.identical] if with_count else [])])
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def to_json(pub: Publication) -> bytes:
    """The fixture format (consultation + items), so a published case can be imported again."""
    data = {
        "consultation": {
            "slug": pub.slug, "title": pub.title, "municipality": pub.municipality, "department": pub.department,
            "period": {"start": pub.period_start, "end": pub.period_end}, "channels": pub.channels,
            "announced_in": pub.announced_in, "submitters": pub.submitters, "sections": pub.section_names,
            "reported_on": pub.reported_on or None, "identity_level": pub.identity_level,
            "items_total": pub.item_count, "rows_total": pub.row_count,
            "submitters_by_channel": dict(pub.by_channel), "items_by_section": dict(pub.by_section),
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


def to_xlsx(pub: Publication) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.worksheet.table import Table, TableStyleInfo

    wb = Workbook()
    ws = wb.active
    ws.title = "意見と区の考え方"
    ws.append([pub.title])
    ws.append([f"募集期間：{pub.period_label}"])
    folded = f"（同一の意見をまとめて{pub.row_count}行で掲載）" if pub.row_count != pub.item_count else ""
    ws.append([f"提出者数：{pub.submitters}名　意見件数：{pub.item_count}件{folded}"])
    ws.append([])
    with_count = pub.has_identical_rows
    ws.append([*HEADERS, *(["同一の意見の件数"] if with_count else [])])
    header_row = ws.max_row
    for row in pub.rows:
        ws.append([row.no, *(neutralise(v) for v in (row.section, row.opinion, row.response)),
                   *([row.identical] if with_count else [])])
    for cells in ws.iter_rows(min_row=header_row + 1):
        for cell in cells:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # never a formula, whatever the text
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
    summary.append(["提出方法", "提出者数"])
    for label, n in pub.by_channel:
        summary.append([label, n])
    summary.append([])
    summary.append(["該当箇所", "意見件数"])
    for label, n in pub.by_section:
        summary.append([label, n])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


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


RENDERERS = {"html": to_html, "csv": to_csv, "xlsx": to_xlsx, "pdf": to_pdf, "json": to_json}


def render(case: Case, fmt: str) -> bytes:
    if fmt not in RENDERERS:
        raise ValueError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")
    return RENDERERS[fmt](build(case))


def as_dict(pub: Publication) -> dict[str, Any]:
    return asdict(pub)


def published_items(case: Case) -> list[Item]:
    return list(case.items.filter(excluded=False, withdrawn=False).order_by("number"))
