"""The security register in Chromium, axe on every page: the CISO office's dashboard, a
department's queue and a finding, a diagnosis upload, and the public report form."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client

from hiroba.accounts.models import Role
from hiroba.security import importing, services
from hiroba.security.models import Finding, Incident
from tests.browser.conftest import assert_accessible
from tests.security.test_import import first_scan, second_scan
from tests.security.zapgen import zap_json

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _office(settings):
    settings.SECURITY_OFFICE_DEPARTMENT = "systems"


@pytest.fixture
def site(departments):
    system = services.system_create(actor="test", url="https://kaigo.example.lg.jp/", name="介護保険申請システム",
                                    department=departments["care"], holds_personal_data=True)
    importing.round_import(actor="test", system=system, stream=importing.spooled(zap_json(first_scan())),
                           filename="r1.json", performed_on=date(2024, 10, 15))
    return system


def sign_in(page, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                               "url": live_server.url}])


def test_the_ciso_dashboard_is_accessible(page, live_server, site, make_staff):
    office = make_staff(email="ciso@example.jp", department="systems", role=Role.HANDLE)
    sign_in(page, live_server, office.user)
    page.goto("/staff/security/")
    assert page.get_by_role("heading", name="情報セキュリティの概要").is_visible()
    assert "高齢介護課" in page.locator("table").first.inner_text()
    assert page.locator("svg.chart[role=img]").count() >= 2
    assert_accessible(page)
    page.get_by_role("button", name="今すぐ点検する").click()
    assert "監査ログのハッシュチェーン" in page.locator("main").inner_text()
    page.goto("/staff/security/overdue/")
    assert_accessible(page)


def test_a_department_works_its_queue_and_imports_a_new_diagnosis(page, live_server, site, make_staff, tmp_path):
    clerk = make_staff(email="care.clerk@example.jp", department="care", role=Role.HANDLE)
    sign_in(page, live_server, clerk.user)
    page.goto("/staff/security/queue/")
    assert page.get_by_role("heading", name="対応待ちの検出事項").is_visible()
    assert_accessible(page)
    page.get_by_role("link", name="クロスサイトスクリプティング（反射型）").click()
    assert_accessible(page)
    page.get_by_role("button", name="対応を始める").click()
    assert "対応中" in page.locator("dl.facts").inner_text()
    page.goto(f"/staff/security/systems/{site.pk}/import/")
    assert_accessible(page)
    report = tmp_path / "second.json"
    report.write_bytes(zap_json(second_scan()))
    page.set_input_files("input[type=file]", str(report))
    page.get_by_label("診断日").fill("2025-10-15")
    page.get_by_role("button", name="取り込む").click()
    page.wait_for_url(f"**/staff/security/systems/{site.pk}/")
    assert "新規 1 件、継続 3 件、解消 2 件、再発 0 件" in page.locator(".messages").inner_text()
    assert_accessible(page)
    assert Finding.objects.get(rule__rule_id="40012").status == "resolved"
    page.goto(f"/staff/security/systems/{site.pk}/import/")
    bad = tmp_path / "bad.json"
    bad.write_bytes(b'{"@version": "2.15.0", "site": [')
    page.set_input_files("input[type=file]", str(bad))
    page.get_by_role("button", name="取り込む").click()
    assert "JSONとして読めません" in page.get_by_role("alert").inner_text()
    assert_accessible(page)


def test_anyone_reports_a_security_problem(page, departments):
    page.goto("/security/report/")
    assert_accessible(page)
    page.get_by_label("ご連絡の内容").fill("区のページに個人情報らしき一覧が表示されています。")
    page.get_by_label("関係するページのURL").fill("https://www.example.lg.jp/list")
    page.get_by_role("button", name="送信する").click()
    page.wait_for_url("**/security/report/received/**")
    number = Incident.objects.get().receipt_number
    assert number in page.locator("main").inner_text()
    assert_accessible(page)
