"""The ward's form service: a LoGoフォーム-style export (Shift_JIS or UTF-8 CSV, or Excel) through
a saved column mapping; importing it twice adds nothing; a broken row is held, the rest go on."""

from __future__ import annotations

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError

from hiroba.accounts.models import Role
from hiroba.consultations.intake import formservice
from hiroba.consultations.intake.models import Entry, FormMapping, Original, State
from hiroba.consultations.models import Channel, Submission
from hiroba.core.models import AuditEntry

pytestmark = pytest.mark.django_db

HEADER = "受付番号,送信日時,お名前,ご住所,区分,ご意見\r\n"
ROWS = [
    "LG-0001,2025/01/12 10:15:00,区民 一郎,千代田区一番町1,在住,窓口のデジタル化を進めてください。\r\n",
    'LG-0002,2025/01/13 21:40:00,区民 二郎,,在勤,"行政手続の案内を、やさしい日本語でも\r\n用意してください。"\r\n',
    "LG-0003,2025/02/20 08:00:00,遅い 三郎,,,期間の後に送られた意見です。\r\n",
]


def export(encoding: str = "cp932", rows: list[str] = ROWS) -> bytes:
    return (HEADER + "".join(rows)).encode(encoding)


@pytest.fixture
def mapping(case):
    return formservice.mapping_save(actor="test", case=case, name="LoGoフォーム", row_key="受付番号", columns={
        "text": "ご意見", "received_at": "送信日時", "name": "お名前", "address": "ご住所", "category": "区分"})


@pytest.mark.parametrize("encoding", ["cp932", "utf-8-sig", "utf-8"])
def test_an_export_is_imported_once(case, mapping, encoding):
    first = formservice.import_export(case, mapping, "export.csv", export(encoding))
    assert (first.new, first.duplicate, len(first.held)) == (2, 0, 1)
    assert "期間外" in first.held[0].reason
    second = formservice.import_export(case, mapping, "export.csv", export(encoding))
    assert (second.new, second.duplicate, len(second.held)) == (0, 3, 0)
    submissions = list(Submission.objects.order_by("receipt_seq"))
    assert [s.receipt_number for s in submissions] == ["2025-DX-0001", "2025-DX-0002"]
    assert submissions[0].channel == Channel.WEB and submissions[0].name == "区民 一郎"
    assert submissions[0].category == "resident" and submissions[1].category == "worker"
    assert submissions[1].text == "行政手続の案内を、やさしい日本語でも\n用意してください。"
    assert Original.objects.filter(kind=Original.Kind.EXPORT).count() == 1  # the same file is stored once


def test_a_later_export_repeating_rows_adds_only_the_new_ones(case, mapping):
    formservice.import_export(case, mapping, "day1.csv", export(rows=ROWS[:1]))
    later = formservice.import_export(case, mapping, "day2.csv", export(rows=ROWS[:2]))
    assert (later.new, later.duplicate) == (1, 1)
    assert Submission.objects.count() == 2


def test_a_broken_row_is_held_and_the_others_go_on(case, mapping):
    rows = [ROWS[0], "LG-0009,2025/01/14 09:00,余計,な,列,が,ある\r\n", "LG-0010,きのう,名前,,,日時が読めない\r\n",
            "LG-0011,2025/01/15 09:00,名前,,,\r\n", ROWS[1]]
    result = formservice.import_export(case, mapping, "broken.csv", export(rows=rows))
    assert (result.new, len(result.held)) == (2, 3)
    reasons = [o.reason for o in result.held]
    assert "列の数（7）が見出し（6）と違います" in reasons[0]
    assert "受付日時「きのう」を日時として読めません" in reasons[1]
    assert "意見がありません" in reasons[2]
    assert Entry.objects.filter(state=State.REVIEW, hold_code="broken_row").count() == 3


def test_a_file_without_the_mapped_columns_imports_nothing(case, mapping):
    with pytest.raises(formservice.ExportUnreadable, match="見出し「ご意見」がありません"):
        formservice.import_export(case, mapping, "other.csv", "受付番号,送信日時,お名前,ご住所,区分,本文\r\n".encode())
    assert not Entry.objects.exists() and not Original.objects.exists()


def test_an_excel_export_is_imported(case, mapping):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(HEADER.strip().split(","))
    sheet.append(["LG-0100", "2025/01/20 12:00:00", "表計算 花子", "", "在学", "Excelで書き出した意見です。"])
    out = io.BytesIO()
    book.save(out)
    result = formservice.import_export(case, mapping, "export.xlsx", out.getvalue())
    assert result.new == 1 and Submission.objects.get().category == "student"


def test_the_command_and_the_staff_screen(case, mapping, tmp_path, client, make_staff):
    path = tmp_path / "export.csv"
    path.write_bytes(export())
    out = io.StringIO()
    call_command("consultation", "formservice", case.slug, str(path), "--mapping", "LoGoフォーム", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "new 2, duplicate 0, held 1" and "期間外" in lines[1]
    with pytest.raises(CommandError, match="列の対応「なし」がありません"):
        call_command("consultation", "formservice", case.slug, str(path), "--mapping", "なし")
    client.force_login(make_staff(email="form@example.jp", role=Role.HANDLE).user)
    response = client.post(f"/staff/consultations/{case.slug}/channels/formservice/", {
        "name": "LoGoフォーム", "row_key": "受付番号", "col_text": "ご意見", "col_received_at": "送信日時",
        "col_name": "お名前", "file": SimpleUploadedFile("export.csv", export())})
    assert response.status_code == 302
    assert Submission.objects.count() == 2  # the same rows again: nothing new
    assert FormMapping.objects.get().columns == {"text": "ご意見", "received_at": "送信日時", "name": "お名前"}
    assert AuditEntry.objects.filter(action="consultations_intake.mapping_save").count() == 2


def test_submissions_are_written_as_csv_and_jsonl(case, mapping, submit):
    submit(case, "ウェブから送った意見です。")
    formservice.import_export(case, mapping, "export.csv", export())
    out = io.StringIO()
    call_command("consultation", "submissions", case.slug, "--format", "jsonl", stdout=out)
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["receipt_number"] for r in records] == ["2025-DX-0001", "2025-DX-0002", "2025-DX-0003"]
    assert [r["state"] for r in records] == ["確定", "自動取込", "自動取込"]
    assert records[1]["channel"] == "web" and records[1]["received_at"].startswith("2025-01-12T10:15:00")
    assert set(records[0]) == {"receipt_number", "channel", "channel_label", "received_at", "state",
                               "identity_status", "text"}
    out = io.StringIO()
    call_command("consultation", "submissions", case.slug, "--format", "csv", stdout=out)
    lines = out.getvalue().lstrip("\ufeff").splitlines()
    assert lines[0] == "受付番号,提出方法,提出方法（表記）,受付日時,状態,本人確認,意見"
    assert len(lines) == 4 + 1  # the quoted line break of row 2 spans two lines
