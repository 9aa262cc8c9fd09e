"""hiroba demo, then hiroba consultation publish: the paper's table, in every format, masked."""

from __future__ import annotations

import csv
import io
import json
import re
from io import StringIO

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from hiroba.consultations import exports, services
from hiroba.consultations.demo import CLOSED_SLUG, CORRECTION_NOTE, OPEN_SLUG, SEED_SLUG
from hiroba.consultations.models import Case, Mask, PublishedResult
from tests.consultations.conftest import FIXTURE_DIR

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(db):
    """The staff and the consultations of `hiroba demo` (the full command runs in the
    idempotence test; the other apps' demo data is not needed here)."""
    from hiroba.accounts import demo as accounts_demo
    from hiroba.consultations import demo as consultations_demo

    accounts_demo.load(lambda line: None)
    consultations_demo.load(lambda line: None)
    return Case.objects.get(slug=SEED_SLUG)


def publish(tmp_path, fmt: str, slug: str = SEED_SLUG) -> bytes:
    out = tmp_path / f"results.{fmt}"
    call_command("consultation", "publish", slug, "--format", fmt, "--out", str(out), stdout=StringIO())
    return out.read_bytes()


def rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def publish_version(tmp_path, fmt: str, version: int, slug: str = SEED_SLUG) -> bytes:
    out = tmp_path / f"results-v{version}.{fmt}"
    call_command("consultation", "publish", slug, "--format", fmt, "--out", str(out), "--version", str(version),
                 stdout=StringIO())
    return out.read_bytes()


def test_demo_then_publish_csv_reproduces_the_papers_table(seeded, tmp_path):
    """The first published version, in the open-data CSV (the fixture's English field names),
    is the paper's table byte for byte; the published CSV carries the ward's Japanese headings;
    the latest version is the 訂正, which masks the school name of No.10 and nothing else."""
    expected = (FIXTURE_DIR / "results.csv").read_bytes()
    first = publish_version(tmp_path, "opendata-csv", 1)
    assert first.startswith(b"\xef\xbb\xbf")
    got, want = rows(first), rows(expected)
    assert got[0] == want[0] == ["no", "section", "opinion", "response"]
    assert len(got) == len(want) == 13
    for mine, theirs in zip(got[1:], want[1:], strict=True):
        assert mine == theirs, f"No.{theirs[0]} differs"
    assert first == expected  # byte for byte, CRLF and BOM included
    japanese = rows(publish_version(tmp_path, "csv", 1))
    assert japanese[0] == ["No.", "該当箇所", "意見内容", "区の考え方"] and japanese[1:] == want[1:]
    latest = rows(publish(tmp_path, "opendata-csv"))
    assert latest[0] == want[0] and len(latest) == 13
    assert [r for r in latest if r not in want] == [latest[10]]  # only No.10 was corrected
    assert "区立昌平小学校" in want[10][2] and "昌平小学校" not in latest[10][2] and "＊＊＊" in latest[10][2]
    assert rows(publish(tmp_path, "csv"))[0] == ["No.", "該当箇所", "意見内容", "区の考え方"]


def test_the_demo_is_idempotent(db):
    call_command("demo", stdout=StringIO())
    seed = Case.objects.get(slug=SEED_SLUG)
    before = list(PublishedResult.objects.order_by("case__slug", "version").values_list("case__slug", "version", "digest"))
    call_command("demo", stdout=StringIO())
    assert Case.objects.filter(slug=SEED_SLUG).count() == 1
    assert seed.items.count() == 12
    after = list(PublishedResult.objects.order_by("case__slug", "version").values_list("case__slug", "version", "digest"))
    assert after == before and [v for slug, v, _ in after if slug == SEED_SLUG] == [1, 2]
    assert Case.objects.filter(slug__in=[CLOSED_SLUG, OPEN_SLUG]).count() == 2


def test_the_summary_counts_submitters_items_sections_and_channels(seeded):
    pub = exports.build(seeded)
    assert pub.submitters == 12 and pub.item_count == 12
    assert pub.period_label.startswith("令和7年1月5日～令和7年1月20日")
    assert pub.channels == ["持参", "郵送", "ファクス", "電子メール", "区HP送信フォーム"]
    assert dict(pub.by_section) == {"全体": 3, "基本的な考え方": 1, "重点方針と取組み": 11}
    assert sum(n for _, n in pub.by_channel) == 12


def test_json_is_the_fixture_format_and_round_trips(seeded, tmp_path):
    latest = json.loads(publish(tmp_path, "json"))
    assert latest["consultation"]["version"] == 2
    assert latest["consultation"]["corrections"] == [{"version": 2, "date": "2025-03-27", "note": CORRECTION_NOTE}]
    data = json.loads(publish_version(tmp_path, "json", 1))
    assert "corrections" not in data["consultation"] and data["consultation"]["version"] == 1
    fixture = json.loads((FIXTURE_DIR / "consultation.json").read_text(encoding="utf-8"))
    assert [i["opinion"] for i in data["items"]] == [i["opinion"] for i in fixture["items"]]
    assert [i["response"] for i in data["items"]] == [i["response"] for i in fixture["items"]]
    assert [i["sections"] for i in data["items"]] == [i["sections"] for i in fixture["items"]]
    path = tmp_path / "again.json"
    data["consultation"]["slug"] = "again"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    call_command("consultation", "import", str(path), stdout=StringIO())
    assert Case.objects.get(slug="again").items.count() == 12


def test_xlsx_has_the_table_with_wrapped_cells(seeded, tmp_path):
    wb = load_workbook(io.BytesIO(publish(tmp_path, "xlsx")))
    ws = wb["意見と区の考え方"]
    values = [[c.value for c in r] for r in ws.iter_rows()]
    header = values.index(["No.", "該当箇所", "意見内容", "区の考え方"])
    body = values[header + 1:]
    assert len(body) == 12 and body[9][0] == 10
    assert ws.cell(row=header + 2, column=3).alignment.wrap_text
    assert ws.page_setup.orientation == "landscape"


def test_html_has_charts_with_data_tables(seeded, tmp_path):
    html = publish(tmp_path, "html").decode()
    assert html.count('<svg class="chart" role="img"') == 2
    assert "<caption>提出方法別の提出者数</caption>" in html and "<caption>該当箇所別の意見件数" in html
    assert "提出者数</dt><dd>12名" in html and "意見件数</dt><dd>12件" in html
    assert "令和7年1月5日" in html


def test_pdf_is_a4_landscape_with_embedded_cjk_font_and_repeated_header(seeded, tmp_path):
    assert publish(tmp_path, "pdf").startswith(b"%PDF-")
    pub = exports.build(seeded)
    raw = exports.to_pdf(pub, uncompressed=True)
    assert b"/FontFile" in raw
    fonts = set(re.findall(rb"/BaseFont\s*/([A-Z]{6}\+[^/\s>]+)", raw))
    assert fonts and all(b"Noto-Sans-CJK-JP" in f for f in fonts), fonts  # subset, embedded
    document = exports.pdf_document(pub)
    assert len(document.pages) > 3
    for page in document.pages:
        assert round(page.width) == 1123 and round(page.height) == 794  # A4 landscape in CSS px

    def text_of(box) -> str:
        return (getattr(box, "text", "") or "") + "".join(text_of(c) for c in getattr(box, "children", []) or [])

    table_pages = [text_of(p._page_box) for p in document.pages[1:]]
    assert all("区の考え方" in t and "該当箇所" in t for t in table_pages)
    # every character of the longest opinion is laid out somewhere (wrapped, never cut off)
    longest = max(pub.rows, key=lambda r: len(r.opinion)).opinion.replace("\n", "")
    everything = "".join(text_of(p._page_box) for p in document.pages)
    assert longest[-40:] in everything.replace("\n", "")


@pytest.fixture
def answering(departments, tmp_path):
    """The seed table imported as a case still being answered (not published)."""
    data = json.loads((FIXTURE_DIR / "consultation.json").read_text(encoding="utf-8"))
    data["consultation"].update(slug="answering", reported_on=None)
    path = tmp_path / "answering.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    call_command("consultation", "import", str(path), stdout=StringIO())
    return Case.objects.get(slug="answering")


def test_cells_that_look_like_formulas_are_neutralised(answering, tmp_path):
    item = answering.items.get(number=1)
    services.answer_update(actor="test", answer=item.answer, text="=HYPERLINK(\"http://evil\")")
    data = publish(tmp_path, "csv", slug="answering")  # a preview: the case is not published
    assert rows(data)[1][3] == "'=HYPERLINK(\"http://evil\")"
    assert rows(publish(tmp_path, "opendata-csv", slug="answering"))[1][3] == "'=HYPERLINK(\"http://evil\")"
    for bad in ("+1", "-1", "@SUM(A1)", "\tx"):
        assert exports.neutralise(bad) == "'" + bad
    wb = load_workbook(io.BytesIO(publish(tmp_path, "xlsx", slug="answering")))
    ws = wb["意見と区の考え方"]
    cell = next(c for r in ws.iter_rows() for c in r if isinstance(c.value, str) and "HYPERLINK" in c.value)
    assert cell.value.startswith("'=") and cell.data_type == "s"


def test_every_export_uses_the_masked_text(seeded, tmp_path):
    """The demo's 訂正 masked the school name of No.10: every format of the latest version has
    the mask, the earlier version (kept) has the paper's text, the original is untouched."""
    item = seeded.items.get(number=10)
    assert item.masks.get(kind="school").decision == Mask.Decision.MASK
    for fmt in ("csv", "opendata-csv", "json", "html", "xlsx", "pdf"):
        latest, first = publish(tmp_path, fmt), publish_version(tmp_path, fmt, 1)
        if fmt == "xlsx":
            latest, first = (
                "".join(str(c.value) for r in load_workbook(io.BytesIO(d))["意見と区の考え方"].iter_rows() for c in r).encode()
                for d in (latest, first))
        if fmt == "pdf":
            latest, first = (pdf_text(d).encode() for d in (latest, first))
        assert "昌平小学校".encode() not in latest, fmt
        assert "＊＊＊".encode() in latest, fmt
        assert "区立昌平小学校".encode() in first, fmt
    assert "区立昌平小学校" in item.text  # the original is untouched


def pdf_text(data: bytes) -> str:
    """The text of a PDF as laid out (pdftotext from poppler when present, else the raw stream)."""
    import shutil
    import subprocess

    if shutil.which("pdftotext"):
        return subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()
    pytest.skip("pdftotext is not installed")


def test_pending_flags_are_masked_until_staff_decide(departments, tmp_path):
    call_command("consultation", "import", str(FIXTURE_DIR / "consultation.json"), "--slug", "raw", stdout=StringIO())
    case = Case.objects.get(slug="raw")
    assert Mask.objects.filter(item__case=case, decision=Mask.Decision.PENDING).exists()
    data = publish(tmp_path, "csv", slug="raw").decode("utf-8-sig")
    assert "昌平小学校" not in data and "平将明" not in data


def test_the_shipped_seed_is_the_shared_fixture():
    from hiroba.consultations.demo import fixture_path

    shared = FIXTURE_DIR / "consultation.json"
    assert fixture_path().read_bytes() == shared.read_bytes()
