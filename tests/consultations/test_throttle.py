"""Public writes of the consultation are rate-limited per address and per e-mail address (issue 13.8)."""

from __future__ import annotations

import pytest

from hiroba.consultations.models import ImpersonationReport, Submission
from tests.consultations.conftest import DURING
from tests.consultations.test_web_intake import form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def shipped_limits(settings):
    settings.HIROBA_RATE_LIMITS = settings.DEFAULT_RATE_LIMITS


def test_a_flood_from_one_address_is_refused_with_429_and_retry_after(client, case, time_machine, shipped_limits):
    time_machine.move_to(DURING, tick=False)
    statuses = [client.post(f"/consultations/{case.slug}/submit/", {**form_data(), "step": "submit"}).status_code
                for _ in range(21)]
    assert statuses == [303] * 20 + [429]
    refused = client.post(f"/consultations/{case.slug}/submit/", {**form_data(), "step": "submit"})
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "しばらく時間をおいてから" in refused.content.decode()
    assert Submission.objects.count() == 20


def test_the_confirmation_step_does_not_count(client, case, time_machine, shipped_limits):
    time_machine.move_to(DURING, tick=False)
    for _ in range(30):
        assert client.post(f"/consultations/{case.slug}/submit/", form_data()).status_code == 200


def test_one_email_address_is_limited_from_any_address(client, case, time_machine, shipped_limits):
    time_machine.move_to(DURING, tick=False)
    statuses = [client.post(f"/consultations/{case.slug}/submit/", {**form_data(email="kumin@example.jp"),
                                                                    "step": "submit"},
                            REMOTE_ADDR=f"198.51.100.{i}").status_code for i in range(11)]
    assert statuses == [303] * 10 + [429]
    assert Submission.objects.filter(email="kumin@example.jp").count() == 10


def test_impersonation_reports_are_limited_per_contact(client, case, shipped_limits):
    data = {"reporter_name": "区民 花子", "reporter_contact": "03-0000-0000", "statement": "私は出していません。"}
    statuses = [client.post(f"/consultations/{case.slug}/report/", data, REMOTE_ADDR=f"198.51.100.{i}").status_code
                for i in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert ImpersonationReport.objects.count() == 3
