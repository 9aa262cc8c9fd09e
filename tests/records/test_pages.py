"""Staff pages with department least privilege, the public register with published columns only,
the decisions through the pages, and the demo."""

from __future__ import annotations

import pytest
from django.urls import reverse

from hiroba.records import lifecycle, register, scans, sharegen
from hiroba.records.models import Disposition, RecordFile, Scan
from tests.records.conftest import file_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_files(departments, expired_file):
    other = register.file_create(actor="test", data=file_data(departments["digital"], name="H30_DX推進計画",
                                                              large="企画", medium="DX", is_public=False))
    return expired_file, other


def test_a_department_sees_only_its_own_register_rows(client, two_files, care_clerk):
    mine, other = two_files
    client.force_login(care_clerk)
    page = client.get(reverse("records_staff:files"))
    assert page.status_code == 200
    assert mine.name in page.content.decode() and other.name not in page.content.decode()
    assert client.get(reverse("records_staff:file", args=[other.pk])).status_code == 404
    assert client.get(reverse("records_staff:file", args=[mine.pk])).status_code == 200
    csv = client.get(reverse("records_staff:files") + "?format=csv").content.decode("utf-8-sig")
    assert mine.name in csv and other.name not in csv


def test_the_records_manager_sees_every_department(client, two_files, records_manager):
    client.force_login(records_manager)
    body = client.get(reverse("records_staff:files")).content.decode()
    assert all(f.name in body for f in two_files)


def test_the_public_register_shows_published_files_and_columns_only(client, two_files):
    mine, other = two_files
    register.file_create(actor="test", data=file_data(mine.department, name="R06_別", fiscal_year=2024,
                                                      share_path="30_保存用/R06_秘密のパス"))
    body = client.get(reverse("records:register")).content.decode()
    assert mine.name in body and other.name not in body
    assert "R06_秘密のパス" not in body
    found = client.get(reverse("records:register"), {"q": "調査票"}).content.decode()
    assert mine.name in found and "R06_別" not in found


def test_request_and_approval_through_the_pages(client, expired_file, care_clerk, records_manager):
    client.force_login(care_clerk)
    url = reverse("records_staff:file_action", args=[expired_file.pk, "request"])
    assert client.post(url, {"kind": "dispose"}).status_code == 303
    d = Disposition.objects.get()
    # the clerk has no approve button and cannot approve by posting
    page = client.get(reverse("records_staff:file", args=[expired_file.pk])).content.decode()
    assert "承認する" not in page
    client.post(reverse("records_staff:file_action", args=[expired_file.pk, "approve"]), {"disposition": d.pk})
    expired_file.refresh_from_db()
    assert expired_file.state == RecordFile.State.ACTIVE
    client.force_login(records_manager)
    page = client.get(reverse("records_staff:file", args=[expired_file.pk])).content.decode()
    assert "承認する" in page
    client.post(reverse("records_staff:file_action", args=[expired_file.pk, "approve"]), {"disposition": d.pk})
    expired_file.refresh_from_db()
    assert expired_file.state == RecordFile.State.DISPOSED
    assert "廃棄・移管の記録" in client.get(reverse("records_staff:file", args=[expired_file.pk])).content.decode()


def test_import_page_lists_row_errors(client, care_clerk, departments):
    client.force_login(care_clerk)
    from django.core.files.uploadedfile import SimpleUploadedFile

    body = ("所属,作成・取得年度,大分類,中分類,名称,作成・取得者,保存期間,保存場所,管理者,保存期間満了時の措置\r\n"
            "デジタル政策課,令和6年度,企画,DX,他課,係,5年,書庫,課長,廃棄\r\n").encode("utf-8-sig")
    response = client.post(reverse("records_staff:file_import"), {"file": SimpleUploadedFile("r.csv", body)})
    assert response.status_code == 400
    assert "2行目" in response.content.decode()
    assert not RecordFile.objects.exists()


def test_guideline_expiry_approvals_and_scan_pages_render(client, tmp_path, expired_file, records_manager):
    root = tmp_path / "share"
    sharegen.generate(root, files=300, seed=1)
    scan, _ = scans.run_scan(actor="test", path=str(root))
    lifecycle.disposition_request(actor="test", file=expired_file, kind="dispose")
    client.force_login(records_manager)
    for name, args in [("home", []), ("guideline", []), ("expiry", []), ("approvals", []), ("scans", []),
                       ("scan", [scan.pk])]:
        response = client.get(reverse(f"records_staff:{name}", args=args))
        assert response.status_code == 200, name
    body = client.get(reverse("records_staff:scan", args=[scan.pk])).content.decode()
    assert "<svg" in body and "重複しているファイル" in body
    assert "すべてのファイルを確認" in body  # how the scan looked: a walk (not the change journal)
    Scan.objects.filter(pk=scan.pk).update(journal_paths=12)
    body = client.get(reverse("records_staff:scan", args=[scan.pk])).content.decode()
    assert "変更の記録にあった 12 件のパスだけを確認" in body
    assert expired_file.name in client.get(reverse("records_staff:expiry")).content.decode()
    assert client.get(reverse("records_staff:scan", args=[scan.pk]), {"kind": "naming"}).status_code == 200


def test_a_department_cannot_see_another_departments_scan(client, tmp_path, departments, care_clerk):
    (tmp_path / "d").mkdir()
    scan, _ = scans.run_scan(actor="test", path=str(tmp_path / "d"), department=departments["digital"])
    client.force_login(care_clerk)
    assert client.get(reverse("records_staff:scan", args=[scan.pk])).status_code == 404


def test_the_demo_loads_twice(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    from django.core.management import call_command

    call_command("demo")
    files = RecordFile.objects.count()
    assert files > 200
    call_command("demo")
    assert RecordFile.objects.count() == files
    from hiroba.records.models import DisposalRecord, LegalHold

    assert Scan.objects.count() == 1 and DisposalRecord.objects.count() == 1 and LegalHold.objects.count() == 1
