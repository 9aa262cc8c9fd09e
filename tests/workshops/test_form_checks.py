"""The application form: honeypot (13.8) and e-mail addresses longer than the column (13.10)."""

from __future__ import annotations

import pytest

from hiroba.workshops.models import Application
from tests.workshops.conftest import OPEN_DAY, at
from tests.workshops.test_views_public import FORM

pytestmark = pytest.mark.django_db
LONG = "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 63 + ".jp"  # 258 characters, well-formed


def test_a_bot_filling_the_honeypot_stores_nothing_and_sends_nothing(client, programme, mailoutbox):
    with at(OPEN_DAY):
        page = client.get("/workshops/r7-jhs/apply/").content.decode()
        response = client.post("/workshops/r7-jhs/apply/", {**FORM, "website": "https://spam.example"})
    assert 'class="hp-field"' in page
    assert response.status_code == 400 and "この欄は空のままにしてください" in response.content.decode()
    assert not Application.objects.exists() and mailoutbox == []


@pytest.mark.parametrize("field", ["guardian_email", "student_email"])
def test_an_address_longer_than_the_column_is_refused_not_a_500(client, programme, field):
    with at(OPEN_DAY):
        response = client.post("/workshops/r7-jhs/apply/", {**FORM, field: LONG})
    assert response.status_code == 400 and "254文字以内" in response.content.decode()
    assert not Application.objects.exists()
