"""The public opinion form: draft by section, confirmation step, 受付番号, bad input, the period."""

from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from hiroba.consultations.models import Case, Submission
from hiroba.core import audit
from hiroba.core.models import AuditEntry
from tests.consultations.conftest import DURING

pytestmark = pytest.mark.django_db
JST = ZoneInfo("Asia/Tokyo")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def form_data(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "区民 花子", "address": "千代田区九段南1-2-1", "category": "resident", "email": "",
        "phone": "", "section": "", "text": "デジタル化を進めてください。", "idempotency_key": uuid.uuid4().hex,
    }
    data.update(overrides)
    return data


@pytest.fixture
def at_during(time_machine):
    time_machine.move_to(DURING)


def test_the_draft_shows_each_section_with_a_link_to_comment_on_it(client, case, at_during):
    response = client.get(f"/consultations/{case.slug}/")
    assert response.status_code == 200
    html = response.content.decode()
    for section in case.sections.all():
        assert f"?section={section.pk}" in html
    assert html.count("この箇所に意見を出す") == 3


def test_a_resident_confirms_and_gets_a_receipt_number(client, case, at_during):
    section = case.sections.get(heading="重点方針と取組み")
    page = client.get(f"/consultations/{case.slug}/submit/?section={section.pk}")
    assert page.status_code == 200 and f'value="{section.pk}" selected' in page.content.decode()
    data = form_data(section=section.pk)
    confirm = client.post(f"/consultations/{case.slug}/submit/", data)
    assert confirm.status_code == 200
    assert "入力内容の確認" in confirm.content.decode()
    assert Submission.objects.count() == 0  # nothing stored before the resident confirms
    done = client.post(f"/consultations/{case.slug}/submit/", {**data, "step": "submit"})
    assert done.status_code == 303
    receipt = client.get(done["Location"])
    assert "2025-DX-0001" in receipt.content.decode()
    submission = Submission.objects.get()
    assert submission.section == section and submission.channel == "web"
    audit.chain_pending()
    assert AuditEntry.objects.filter(action="consultations.submission_receive").count() == 1


def test_a_double_click_or_retried_post_stores_one_submission(client, case, at_during):
    data = {**form_data(), "step": "submit"}
    first = client.post(f"/consultations/{case.slug}/submit/", data)
    second = client.post(f"/consultations/{case.slug}/submit/", data)
    assert first.status_code == second.status_code == 303
    assert first["Location"] == second["Location"]
    assert Submission.objects.count() == 1


@pytest.mark.parametrize("moment, open_", [((2025, 2, 10, 23, 59, 59), True), ((2025, 2, 11, 0, 0, 0), False),
                                           ((2025, 1, 4, 23, 59, 59), False)])
def test_the_period_edges_in_jst(client, case, time_machine, moment, open_):
    time_machine.move_to(datetime(*moment, tzinfo=JST), tick=False)
    response = client.post(f"/consultations/{case.slug}/submit/", {**form_data(), "step": "submit"})
    if open_:
        assert response.status_code == 303 and Submission.objects.count() == 1
    else:
        assert response.status_code == 403
        html = response.content.decode()
        assert "受付期間外" in html and "令和7年1月5日" in html and "令和7年2月10日" in html
        assert Submission.objects.count() == 0


def test_a_closed_case_refuses_with_the_dates(client, make_case, at_during):
    case = make_case(state=Case.State.TALLYING)
    response = client.get(f"/consultations/{case.slug}/submit/")
    assert response.status_code == 403 and "受付期間外" in response.content.decode()  # closed: public, not open
    Case.objects.filter(pk=case.pk).update(state=Case.State.PUBLISHED)
    response = client.post(f"/consultations/{case.slug}/submit/", {**form_data(), "step": "submit"})
    assert response.status_code == 403 and "受付期間外" in response.content.decode()
    assert Submission.objects.count() == 0


@pytest.mark.parametrize("text, message", [
    ("", "意見を入力してください"),
    ("   \n　\t ", "空白だけでは送信できません"),
    ("あ" * 10_001, "10,000文字以内"),
    ("NUL\x00を含む", "NUL文字"),
    ("文字化け\ufffdです", "UTF-8"),
])
def test_bad_opinions_get_a_clear_message_and_nothing_is_stored(client, case, at_during, text, message):
    response = client.post(f"/consultations/{case.slug}/submit/", {**form_data(text=text), "step": "submit"})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Submission.objects.count() == 0


def test_invalid_utf8_bytes_are_refused(client, case, at_during):
    body = ("name=a&address=b&category=resident&idempotency_key=" + uuid.uuid4().hex + "&step=submit&text=").encode()
    response = client.post(f"/consultations/{case.slug}/submit/", body + b"%FF%FEabc",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400 and "UTF-8" in response.content.decode()
    assert Submission.objects.count() == 0


def test_html_and_script_are_shown_as_text(client, case, at_during):
    text = '<script>alert("x")</script><b>太字</b>'
    confirm = client.post(f"/consultations/{case.slug}/submit/", form_data(text=text))
    html = confirm.content.decode()
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    done = client.post(f"/consultations/{case.slug}/submit/", {**form_data(text=text), "step": "submit"})
    assert done.status_code == 303
    assert Submission.objects.get().text == text  # stored exactly as written


def test_an_unknown_section_is_refused(client, make_case, case, at_during):
    other = make_case(slug="other")
    foreign = other.sections.first()
    response = client.post(f"/consultations/{case.slug}/submit/", {**form_data(section=foreign.pk), "step": "submit"})
    assert response.status_code == 400 and "この案件にありません" in response.content.decode()
    assert client.get(f"/consultations/{case.slug}/submit/?section=999999").status_code == 404
    assert Submission.objects.count() == 0


def test_a_50_mb_attachment_is_refused(client, case, at_during, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100 * 1024 * 1024
    big = SimpleUploadedFile("big.pdf", PDF + b"0" * (50 * 1024 * 1024), content_type="application/pdf")
    response = client.post(f"/consultations/{case.slug}/submit/", {**form_data(), "attachment": big})
    assert response.status_code == 413
    assert "10MB以下" in response.content.decode()
    assert Submission.objects.count() == 0


def test_an_exe_renamed_pdf_is_refused(client, case, at_during):
    exe = SimpleUploadedFile("opinion.pdf", b"MZ\x90\x00" + b"\x00" * 200, content_type="application/pdf")
    response = client.post(f"/consultations/{case.slug}/submit/", {**form_data(), "attachment": exe})
    assert response.status_code == 400
    assert "PDF・PNG・JPEG" in response.content.decode()


def test_a_pdf_attachment_travels_through_the_confirmation(client, case, at_during):
    pdf = SimpleUploadedFile("意見書.pdf", PDF, content_type="application/pdf")
    data = form_data()
    confirm = client.post(f"/consultations/{case.slug}/submit/", {**data, "attachment": pdf})
    assert confirm.status_code == 200 and "意見書.pdf" in confirm.content.decode()
    token = confirm.context["form"]["attachment_token"].value()
    done = client.post(f"/consultations/{case.slug}/submit/", {**data, "attachment_token": token, "step": "submit"})
    assert done.status_code == 303
    submission = Submission.objects.get()
    assert submission.original_type == "application/pdf" and submission.original_file.read() == PDF


def test_a_forged_csrf_token_is_refused(case, at_during):
    client = Client(enforce_csrf_checks=True)
    client.get(f"/consultations/{case.slug}/submit/")
    response = client.post(f"/consultations/{case.slug}/submit/",
                           {**form_data(), "step": "submit", "csrfmiddlewaretoken": "forged" * 8})
    assert response.status_code == 403
    assert Submission.objects.count() == 0


def test_a_tampered_idempotency_key_is_refused(client, case, at_during):
    response = client.post(f"/consultations/{case.slug}/submit/",
                           {**form_data(idempotency_key="'; DROP TABLE x; --"), "step": "submit"})
    assert response.status_code == 400 and Submission.objects.count() == 0


def test_overload_answers_503_with_retry_after(client, case, at_during, settings):
    settings.CONSULTATIONS_MAX_INFLIGHT_SUBMISSIONS = 0
    response = client.post(f"/consultations/{case.slug}/submit/", {**form_data(), "step": "submit"})
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert Submission.objects.count() == 0


def test_impersonation_can_be_reported_publicly(client, case, submit):
    submission = submit(case, name="区民 太郎")
    response = client.post(f"/consultations/{case.slug}/report/", {
        "receipt_number": submission.receipt_number, "reporter_name": "区民 太郎",
        "reporter_contact": "taro@example.jp", "statement": "この意見は私が出したものではありません。",
    })
    assert response.status_code == 200 and "申告を受け付けました" in response.content.decode()
    assert case.impersonation_reports.get().submission == submission
