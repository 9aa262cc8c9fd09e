"""The staff intake form speaks to the clerk (not the resident) and names the field and the
period when a date is the problem; the audited export of the submitters' details."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from hiroba.accounts.models import Role
from hiroba.consultations.models import Case, Submission
from hiroba.core.models import AuditEntry
from tests.consultations.conftest import JST

AFTER = datetime(2025, 2, 14, 10, 0, tzinfo=JST)  # the period (2025-01-05 .. 02-10) has ended

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture
def clerk_client(client, make_staff, time_machine):
    time_machine.move_to(AFTER)
    client.force_login(make_staff(email="intake@example.jp", role=Role.HANDLE).user)
    return client


def post(client, case, **extra):
    data = {"channel": "post", "received_at": "2025-02-13T09:00", "postmark_date": "2025-02-10",
            "name": "郵送 次郎", "address": "", "category": "", "text": "紙で届いた意見です。",
            "idempotency_key": uuid.uuid4().hex,
            "attachment": SimpleUploadedFile("scan.pdf", PDF, content_type="application/pdf"), **extra}
    return client.post(f"/staff/consultations/{case.slug}/intake/", data)


def test_the_intake_form_helps_the_clerk_not_the_resident(clerk_client, case):
    html = clerk_client.get(f"/staff/consultations/{case.slug}/intake/").content.decode()
    assert "入力すると、受付番号をメールでお知らせします。" not in html
    assert "区外にお住まいの方は" not in html
    assert "意見書に書かれたメールアドレス" in html and "受付番号を提出者にメールで送ります" in html
    assert "消印日が募集期間（令和7年1月5日～令和7年2月10日）の中にあるもの" in html
    assert "該当箇所（意見書に書かれている場合）" in html


def test_a_late_postmark_names_the_postmark_field_and_the_period(clerk_client, case, time_machine):
    Case.objects.filter(pk=case.pk).update(state=Case.State.TALLYING)
    response = post(clerk_client, case, postmark_date="2025-02-11")
    assert response.status_code == 400
    html = response.content.decode()
    message = "消印日（令和7年2月11日 (2025年2月11日)）が募集期間（令和7年1月5日～令和7年2月10日）の外のため、受け付けられません。"
    assert f'<p class="field__error" id="id_postmark_date_error1">{message}</p>' in html
    assert f'<a href="#id_postmark_date">消印日（郵送のみ）：{message}</a>' in html
    assert ">受付期間外のため、意見を受け付けることができません。<" not in html
    assert Submission.objects.count() == 0
    assert post(clerk_client, case).status_code == 302  # postmarked on the last day: accepted


def test_a_fax_received_after_the_period_names_the_received_date(clerk_client, case, time_machine):
    Case.objects.filter(pk=case.pk).update(state=Case.State.TALLYING)
    response = post(clerk_client, case, channel="fax", postmark_date="", received_at="2025-02-11T08:30")
    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="id_received_at_error1">受付日時（令和7年2月11日 (2025年2月11日)）が募集期間' in html


def test_a_case_past_tallying_says_why_it_refuses(clerk_client, case):
    Case.objects.filter(pk=case.pk).update(state=Case.State.ANSWERING)
    html = post(clerk_client, case, postmark_date="2025-02-01").content.decode()
    assert "この案件は「回答作成中」のため、意見を受け付けることはできません（募集期間 令和7年1月5日～令和7年2月10日）。" in html


def test_the_submitters_export_holds_their_details_and_is_audited_with_its_purpose(
        client, make_staff, answered_case, time_machine):
    url = f"/staff/consultations/{answered_case.slug}/submitters/"
    reader = make_staff(email="reader@example.jp", role=Role.READ).user
    client.force_login(reader)
    assert client.get(url).status_code == 403
    client.force_login(make_staff(email="followup@example.jp", role=Role.HANDLE).user)
    page = client.get(url)
    assert page.status_code == 200 and "監査ログに記録されます" in page.content.decode()
    assert client.post(url, {"purpose": "  "}).status_code == 400
    assert not AuditEntry.objects.filter(action="consultations.submitters_export").exists()
    response = client.post(url, {"purpose": "提出者への個別の連絡のため"})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    assert response["Content-Disposition"] == f'attachment; filename="{answered_case.slug}-submitters.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))
    assert rows[0][:9] == ["受付番号", "受付日時", "提出方法", "消印日", "氏名", "住所", "区分", "メールアドレス", "電話番号"]
    assert [r[4] for r in rows[1:]] == ["区民1", "区民2", "区民3"] and rows[1][7] == "k1@example.jp"
    assert rows[1][0] == "2025-DX-0001" and rows[1][12] == "No.1 公表" and "090-1234-5678" in rows[1][13]
    entry = AuditEntry.objects.get(action="consultations.submitters_export")
    assert entry.changes == {"purpose": "提出者への個別の連絡のため", "rows": 3, "format": "csv"}
    assert entry.object_id == str(answered_case.pk)
