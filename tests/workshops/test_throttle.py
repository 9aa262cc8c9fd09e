"""Applications, and the consent mails they send to whatever address is given, are rate-limited
(issue 13.8)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hiroba.workshops.models import Application
from tests.workshops.conftest import OPEN_DAY, STUDENTS, at
from tests.workshops.test_views_public import FORM

pytestmark = pytest.mark.django_db


def _form(i: int, **overrides: str) -> dict[str, str]:
    name, kana, birth, school, grade = STUDENTS[i]
    return {**FORM, "student_name": name, "student_kana": kana, "birth_date": birth.isoformat(),
            "school_name": school, "grade": str(grade), **overrides}


def test_applications_from_one_address_are_limited(client, programme, settings):
    settings.HIROBA_RATE_LIMITS = {**settings.HIROBA_RATE_LIMITS, "workshops.apply": "2/h/ip,100/h/key"}
    with at(OPEN_DAY):
        statuses = [client.post("/workshops/r7-jhs/apply/", _form(i, guardian_email=f"g{i}@example.jp")).status_code
                    for i in range(3)]
    assert statuses == [302, 302, 429]
    assert Application.objects.count() == 2


def test_one_guardian_address_gets_at_most_three_consent_mails_a_day(client, programme, settings, mailoutbox,
                                                                    django_capture_on_commit_callbacks):
    settings.HIROBA_RATE_LIMITS = {**settings.HIROBA_RATE_LIMITS,
                                   "workshops.consent_mail": settings.DEFAULT_RATE_LIMITS["workshops.consent_mail"]}
    statuses = []
    for i in range(4):  # four children, hours apart, from different addresses, all naming one victim's address
        with at(OPEN_DAY + timedelta(hours=i)), django_capture_on_commit_callbacks(execute=True):
            response = client.post("/workshops/r7-jhs/apply/", _form(i, guardian_email="victim@example.jp",
                                                                     student_email=""),
                                   REMOTE_ADDR=f"198.51.100.{i}")
        statuses.append(response.status_code)
    assert statuses == [302, 302, 302, 429]
    assert "しばらく時間をおいてから" in response.content.decode() and response["Retry-After"]
    assert [m.to for m in mailoutbox] == [["victim@example.jp"]] * 3
    assert Application.objects.count() == 3
