"""電子文書管理 in Chromium, axe on every page: the register (staff and public), a file's
disposal request and approval, and a share scan's report."""

from __future__ import annotations

import pytest
from django.test import Client

from hiroba.accounts.models import Role
from hiroba.records import register, scans, sharegen
from hiroba.records.models import RecordFile
from tests.browser.conftest import assert_accessible
from tests.records.conftest import file_data

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _office(settings):
    settings.RECORDS_OFFICE_DEPARTMENT = "systems"


def sign_in(page, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                               "url": live_server.url}])


def test_the_register_and_a_disposal_are_accessible(page, live_server, departments, make_staff):
    f = register.file_create(actor="test", data=file_data(departments["care"]))
    clerk = make_staff(email="care.clerk@example.jp", department="care", role=Role.HANDLE)
    sign_in(page, live_server, clerk.user)
    page.goto("/staff/records/files/")
    assert page.get_by_role("heading", name="行政文書ファイル管理簿").is_visible()
    assert_accessible(page)
    page.get_by_role("link", name=f.name).click()
    assert_accessible(page)
    page.get_by_label("措置").select_option("dispose")
    page.get_by_role("button", name="申請する").click()
    assert "文書主管課が承認します" in page.locator("main").inner_text()
    assert_accessible(page)
    manager = make_staff(email="bunsho@example.jp", department="systems", role=Role.APPROVE)
    page.context.clear_cookies()
    sign_in(page, live_server, manager.user)
    page.goto("/staff/records/approvals/")
    assert_accessible(page)
    page.get_by_role("link", name=f.name).click()
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="承認する").click()
    assert "廃棄・移管の記録" in page.locator("main").inner_text()
    assert RecordFile.objects.get(pk=f.pk).state == RecordFile.State.DISPOSED
    page.goto("/records/")
    assert_accessible(page)
    assert f.name in page.locator("table").inner_text()


def test_the_scan_report_is_accessible(page, live_server, departments, make_staff, tmp_path):
    root = tmp_path / "share"
    sharegen.generate(root, files=400, seed=4)
    scan, _ = scans.run_scan(actor="test", path=str(root))
    manager = make_staff(email="bunsho@example.jp", department="systems", role=Role.APPROVE)
    sign_in(page, live_server, manager.user)
    page.goto(f"/staff/records/scans/{scan.pk}/")
    assert page.get_by_role("heading", name="点検結果").is_visible()
    assert page.locator("svg.chart[role=img]").count() >= 3
    assert_accessible(page)
    page.goto("/staff/records/guideline/")
    assert_accessible(page)


def test_a_transfer_with_an_office_files_pdf_copy_is_accessible(page, live_server, settings, departments, make_staff):
    """The request page with the PDF column: uploaded in the browser, the PDF copy made by the
    worker (the immediate backend; `false` stands in for LibreOffice, so it says why it failed)."""
    import shutil

    from hiroba.records.models import TransferRendering
    from tests.records.test_transfer_pdf import word

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.RECORDS_TRANSFER_SOFFICE = shutil.which("false")
    clerk = make_staff(email="care.clerk@example.jp", department="care", role=Role.HANDLE)
    sign_in(page, live_server, clerk.user)
    page.goto("/staff/records/transfers/new/")
    assert_accessible(page)
    page.get_by_label("所属").select_option(str(departments["care"].pk))
    page.get_by_label("理由").fill("庁内で共有する資料")
    page.get_by_label("ファイル（複数可）").set_input_files(files=[{
        "name": "計画.docx", "mimeType": "application/octet-stream", "buffer": word("令和8年度 事業計画")}])
    page.get_by_role("button", name="申請する").click()
    assert "計画.docx" in page.locator("table").inner_text()
    assert TransferRendering.objects.filter(file__name="計画.docx").exists()
    page.reload()
    assert "作成できませんでした" in page.locator("table").inner_text()
    assert_accessible(page)
