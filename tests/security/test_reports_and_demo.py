"""The 結果報告書 as PDF (Japanese text embedded) and Excel; the demo carries the paper's figures."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from hiroba.accounts import demo as accounts_demo
from hiroba.security import demo, exports, importing
from hiroba.security.models import Audit, Course, DiagnosisRound, Finding, Incident, PolicyVersion, Severity, System
from hiroba.surveys.models import Survey
from hiroba.surveys.queries import favourable_share
from tests.security.test_import import first_scan
from tests.security.zapgen import zap_json

pytestmark = pytest.mark.django_db


@pytest.fixture
def imported(site):
    importing.round_import(actor="test", system=site, stream=importing.spooled(zap_json(first_scan())),
                           filename="a.json", performed_on=date(2024, 10, 15))
    return site


def test_the_report_pdf_is_japanese_text_in_the_embedded_font(imported):
    html = exports.render_to_string("security/export/report_pdf.html",
                                    exports.report_context(exports.build_report(imported)))
    document = exports.pdf.document(html)
    text = "".join(box.text for page in document.pages for box in _texts(page._page_box))
    assert "Webセキュリティ診断 結果報告書" in text and "クロスサイトスクリプティング" in text
    assert "介護保険申請システム" in text
    assert exports.report_pdf(imported).startswith(b"%PDF")
    assert b"NotoSansCJK" in exports.pdf.to_pdf(html, uncompressed=True)


def _texts(box):
    from weasyprint.formatting_structure.boxes import TextBox

    if isinstance(box, TextBox):
        yield box
    for child in getattr(box, "children", []):
        yield from _texts(child)


def test_the_report_workbook_has_the_summary_and_every_finding(client, imported, care_clerk):
    client.force_login(care_clerk)
    response = client.get(reverse("security_staff:system_report", args=[imported.pk, "xlsx"]))
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["概要", "検出事項"]
    summary = {row[0]: row[1:] for row in workbook["概要"].iter_rows(values_only=True) if row[0]}
    assert summary["重要"] == (1, 1) and summary["警告"] == (2, 2)
    findings = list(workbook["検出事項"].iter_rows(values_only=True))
    assert len(findings) == 3 + 5  # preamble, header, five findings


def test_the_demo_carries_the_papers_figures_and_is_idempotent():
    accounts_demo.load(lambda line: None)
    demo.load(lambda line: None)
    counts = (System.objects.count(), Finding.objects.count(), Survey.objects.count())
    by_year = dict(DiagnosisRound.objects.values_list("fiscal_year").annotate(
        n=__import__("django.db.models", fromlist=["Count"]).Count("system", distinct=True)))
    assert by_year == {2023: 53, 2024: 56}
    grades = set(Finding.objects.values_list("severity", flat=True))
    assert grades == {Severity.INFO, Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL}
    assert Finding.objects.filter(reopen_count__gt=0).exists() and Finding.objects.filter(status="resolved").exists()
    assert Finding.objects.filter(status="risk_accepted").count() == 1
    texts = {a.kind: [e.text for e in a.evaluations.order_by("kind")] for a in Audit.objects.all()}
    assert texts["internal"] == ["二要素認証を導入し、認証を強化している。", "アカウント管理やパスワード設定に一部課題があった。"]
    assert "他団体のインシデント情報を共有し、職員の意識向上を図っていた。" in texts["external"]
    assert texts["vendor"] == ["アカウント管理や再委託の在り方等について課題があった。"]
    internal = Audit.objects.get(kind="internal")
    assert (internal.starts_on, internal.ends_on) == (date(2024, 8, 22), date(2024, 8, 23))
    external = Audit.objects.get(kind="external")
    assert (external.starts_on, external.ends_on) == (date(2024, 10, 28), date(2024, 11, 7))
    drill = Incident.objects.get(is_drill=True)
    assert drill.participant_count == 28 and "未納税者一覧" in drill.scenario
    assert drill.improvements.count() == 5
    overview = Course.objects.get(title="クラウドサービス活用研修（概説研修）")
    basic = Course.objects.get(title="クラウドサービス活用研修（基礎研修）")
    assert (overview.attendee_count, basic.attendee_count) == (224, 49)
    assert favourable_share(overview.survey) >= 80 and favourable_share(basic.survey) >= 75
    assert Survey.objects.get(title__startswith="全庁LAN環境").response_count == 560
    assert Survey.objects.get(title__startswith="電子文書の管理に関するヒアリング").response_count == 12
    assert PolicyVersion.objects.get().effective_on == date(2024, 4, 1)
    demo.load(lambda line: None)
    assert (System.objects.count(), Finding.objects.count(), Survey.objects.count()) == counts
