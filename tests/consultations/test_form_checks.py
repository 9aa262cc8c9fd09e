"""The public opinion form: honeypot and fill time (13.8), long e-mail addresses (13.10), the
hidden field's label (13.14)."""

from __future__ import annotations

import pytest

from hiroba.consultations.models import ImpersonationReport, Submission
from tests.consultations.conftest import DURING
from tests.consultations.test_web_intake import form_data

pytestmark = pytest.mark.django_db
LONG = "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 63 + ".jp"  # 258 characters, well-formed


def test_the_form_carries_the_honeypot_and_the_stamp_through_confirmation(client, case, time_machine, settings):
    settings.HIROBA_FORM_MIN_FILL_SECONDS = 3
    time_machine.move_to(DURING, tick=False)
    page = client.get(f"/consultations/{case.slug}/submit/").content.decode()
    started = page.split('name="form_started" value="', 1)[1].split('"', 1)[0]
    assert 'class="hp-field"' in page
    data = form_data(form_started=started, website="")
    time_machine.shift(1)
    too_fast = client.post(f"/consultations/{case.slug}/submit/", data)
    assert too_fast.status_code == 400 and "短すぎる" in too_fast.content.decode()
    time_machine.shift(20)
    confirm = client.post(f"/consultations/{case.slug}/submit/", data)
    assert confirm.status_code == 200 and f'value="{started}"' in confirm.content.decode()
    done = client.post(f"/consultations/{case.slug}/submit/", {**data, "step": "submit"})
    assert done.status_code == 303 and Submission.objects.count() == 1


def test_a_bot_filling_the_honeypot_stores_nothing(client, case, time_machine):
    time_machine.move_to(DURING, tick=False)
    response = client.post(f"/consultations/{case.slug}/submit/",
                           {**form_data(website="https://spam.example"), "step": "submit"})
    assert response.status_code == 400 and "この欄は空のままにしてください" in response.content.decode()
    report = client.post(f"/consultations/{case.slug}/report/", {
        "reporter_name": "x", "reporter_contact": "x", "statement": "x", "website": "spam"})
    assert report.status_code == 400
    assert not Submission.objects.exists() and not ImpersonationReport.objects.exists()


def test_an_address_longer_than_the_column_is_refused_not_a_500(client, case, time_machine):
    time_machine.move_to(DURING, tick=False)
    response = client.post(f"/consultations/{case.slug}/submit/", {**form_data(email=LONG), "step": "submit"})
    assert response.status_code == 400 and "254文字以内" in response.content.decode()
    assert not Submission.objects.exists()


def test_a_missing_idempotency_key_is_explained_in_japanese(client, case, time_machine):
    time_machine.move_to(DURING, tick=False)
    data = form_data()
    del data["idempotency_key"]
    html = client.post(f"/consultations/{case.slug}/submit/", {**data, "step": "submit"}).content.decode()
    assert "Idempotency" not in html and "再送識別子：送信内容が正しくありません" in html


def test_an_opinion_in_shift_jis_bytes_is_refused_and_nothing_is_stored(client, case, time_machine):
    time_machine.move_to(DURING, tick=False)
    from urllib.parse import urlencode

    fields = {k: v for k, v in form_data().items() if k != "text"}
    body = urlencode({**fields, "step": "submit"}).encode() + b"&text=" + "区民の意見です".encode("cp932")
    response = client.generic("POST", f"/consultations/{case.slug}/submit/", body,
                              content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400 and "UTF-8ではない文字" in response.content.decode()
    assert not Submission.objects.exists()
