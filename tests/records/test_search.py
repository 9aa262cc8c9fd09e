"""The records search (issue 17 §5): the text of PDF, Word, Excel and text files on a scanned
share is indexed and found by Japanese words of 3+ characters (SQLite: FTS5 trigram; PostgreSQL:
ILIKE with pg_trgm) and of 1–2 characters (LIKE), with filters; a broken PDF is reported, not
fatal; the staff page shows highlighted snippets within the user's departments."""

from __future__ import annotations

import functools
import io
import zipfile

import openpyxl
import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from hiroba.core.pdf import to_pdf
from hiroba.records import documents, register, scans, textract
from hiroba.records.models import DocumentText
from tests.records.conftest import file_data
from tests.security.test_english import assert_english, texts

pytestmark = pytest.mark.django_db

CARE = "高齢介護課/10_所属共有/認定"
DIGITAL = "デジタル政策課/10_所属共有/計画"


def docx(*paragraphs: str) -> bytes:
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    body = "".join(f"<w:p><w:r><w:t>{p}</w:t></w:r></w:p>" for p in paragraphs)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", f'<?xml version="1.0"?><w:document xmlns:w="{w}"><w:body>{body}'
                                        f"</w:body></w:document>")
    return out.getvalue()


def xlsx(*rows: list[object]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@functools.cache
def pdf() -> bytes:
    return to_pdf("<html lang=ja><body><p>要介護認定の調査結果について報告します。</p></body></html>")


@pytest.fixture
def share(tmp_path, departments, monkeypatch):
    monkeypatch.setattr(documents, "BATCH", 4)  # 6 documents: two batches
    root = tmp_path / "share"
    files = {
        f"{CARE}/調査報告.pdf": pdf(),
        f"{CARE}/運営協議会.docx": docx("地域包括支援センター運営協議会", "第3回の議事録"),
        f"{CARE}/壊れた.pdf": b"%PDF-1.4 this is not a PDF",
        f"{DIGITAL}/予算.xlsx": xlsx(["項目", "金額"], ["情報システム標準化", 200000000]),
        f"{DIGITAL}/メモ.txt": "ガバメントクラウド移行のメモ\n".encode("cp932"),
        f"{DIGITAL}/件数.csv": "区分,相談,件数\n窓口,12,3\n".encode(),
        f"{DIGITAL}/写真.jpg": b"\xff\xd8 not indexed",
    }
    for rel, body in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(body)
    register.file_create(actor="test", data=file_data(departments["care"], share_path=CARE))
    scans.run_scan(actor="test", path=str(root))
    report = documents.index(actor="test", path=str(root))
    return root, report


def found(q: str, **filters: object) -> list[str]:
    return [d.path.rsplit("/", 1)[-1] for d in documents.search(DocumentText.objects.all(), {"q": q, **filters})]


def test_index_reads_every_kind_and_reports_a_broken_pdf(share):
    root, report = share
    assert report.indexed == 6 and report.removed == 0
    assert report.errors == [{"path": f"{CARE}/壊れた.pdf", "reason": "broken_pdf"}]
    care = DocumentText.objects.get(path=f"{CARE}/調査報告.pdf")
    assert care.department.code == "care" and care.fiscal_year == 2018 and care.large == "介護保険"
    assert care.record_file.name == "H30_要介護認定調査票" and "H30_要介護認定調査票" in care.name
    assert DocumentText.objects.get(path=f"{DIGITAL}/予算.xlsx").department.code == "digital"


def test_japanese_words_of_three_or_more_characters_find_the_contents(share):
    assert found("要介護認定の調査") == ["調査報告.pdf"]
    assert found("包括支援センター") == ["運営協議会.docx"]
    assert found("システム標準化") == ["予算.xlsx"]
    assert found("ガバメントクラウド") == ["メモ.txt"]  # Shift_JIS read
    assert found("区分,相談") == ["件数.csv"]
    assert found("要介護 結果") == ["調査報告.pdf"]  # every word
    assert found("存在しない語句") == []


def test_words_of_one_or_two_characters_fall_back_to_like(share):
    assert found("議事") == ["運営協議会.docx"]
    assert found("窓口") == ["件数.csv"]
    assert found("相談") == ["件数.csv"]
    assert sorted(found("予")) == ["予算.xlsx"]


def test_filters_by_department_year_and_classification(share, departments):
    assert sorted(found("", department=departments["care"].pk)) == ["壊れた.pdf", "調査報告.pdf", "運営協議会.docx"]
    assert found("メモ", department=departments["care"].pk) == []
    assert sorted(found("", year=2018)) == ["壊れた.pdf", "調査報告.pdf", "運営協議会.docx"]
    assert found("標準化", year=2018) == []
    assert sorted(found("報告", large="介護保険")) == ["調査報告.pdf"]


def test_a_re_index_reads_only_what_changed_and_drops_what_is_gone(share):
    root, _ = share
    (root / DIGITAL / "メモ.txt").unlink()
    (root / DIGITAL / "件数.csv").write_text("区分,苦情,件数\n", encoding="utf-8")
    scans.run_scan(actor="test", path=str(root))
    report = documents.index(actor="test", path=str(root))
    assert (report.indexed, report.unchanged, report.removed) == (1, 4, 1)
    assert found("ガバメント") == [] and found("苦情") == ["件数.csv"] and found("相談") == []


def test_the_engine_is_the_databases_index():
    from django.db import connection

    assert documents.engine() == ("fts5_trigram" if connection.vendor == "sqlite" else "pg_trgm")


def test_an_unscanned_folder_is_refused(tmp_path, departments):
    from hiroba.core.errors import ServiceError

    with pytest.raises(ServiceError) as caught:
        documents.index(actor="test", path=str(tmp_path))
    assert caught.value.code == "not_scanned"


def test_the_staff_page_highlights_and_keeps_to_the_users_departments(client, share, care_clerk, records_manager,
                                                                       departments):
    client.force_login(care_clerk)
    url = reverse("records_staff:search")
    body = client.get(url, {"q": "要介護認定"}).content.decode()
    assert "<mark>要介護認定</mark>の調査結果" in body and 'role="search"' in body
    assert "本文を読めませんでした" in client.get(url, {"q": "壊れ"}).content.decode()
    assert "予算.xlsx" not in client.get(url, {"q": "標準化"}).content.decode()
    client.force_login(records_manager)
    assert "<mark>標準化</mark>" in client.get(url, {"q": "標準化"}).content.decode()
    with translation.override("en"):
        body = client.get(url, {"q": "標準化"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Full-text search of documents" in body and "1 result" in body
    names = tuple(d.name for d in departments.values())
    assert_english(texts(body, "h1", "h2", "label", "button"), names)


def test_the_index_command(share, capsys):
    root, _ = share
    call_command("records", "index", str(root))
    out = capsys.readouterr().out
    assert "索引 0 件、変更なし 6 件" in out and f"検索の方式: {documents.engine()}" in out


def test_extract_limits_and_encodings(tmp_path):
    big = tmp_path / "big.txt"
    big.write_bytes(b"x" * 2000)
    with pytest.raises(textract.Unreadable) as caught:
        textract.extract(str(big), textract.Limits(max_bytes=1000))
    assert caught.value.reason == "too_large"
    bad = tmp_path / "bad.docx"
    bad.write_bytes(b"PK not a zip")
    with pytest.raises(textract.Unreadable) as caught:
        textract.extract(str(bad))
    assert caught.value.reason == "broken_zip"
    assert textract.decode("①全角　スペース".encode("cp932")) == "①全角　スペース"
    assert textract.decode("\ufeff全角".encode()) == "全角"
    assert textract.kind_of("~$報告.docx") is None and textract.kind_of("報告.DOCX") == "docx"
