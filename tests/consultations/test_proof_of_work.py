"""大量送信対策: a proof of work (ALTCHA's challenge, hiroba.core.pow) before a web submission,
switched on per case by staff under a flood. Without a solved, unused, unexpired challenge of
this case nothing is written; with one the submission goes through as before."""

from __future__ import annotations

import base64
import json
import re
from datetime import timedelta

import pytest
from altcha import solve_challenge_v1
from django.test import Client

from hiroba.consultations import services
from hiroba.consultations.models import Submission
from hiroba.core import audit, pow
from hiroba.core.models import AuditEntry
from tests.consultations.conftest import DURING
from tests.consultations.test_web_intake import form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def at_during(time_machine):
    time_machine.move_to(DURING)


@pytest.fixture(autouse=True)
def _easy(settings):
    settings.HIROBA_POW_MAX_NUMBER = 2_000  # a few milliseconds to solve in a test


def _challenge_of(html: str) -> dict:
    found = re.search(r'data-pow="([^"]+)"', html)
    assert found, "the confirmation page carries no challenge"
    return json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))


def _solve(challenge: dict, **tamper: object) -> str:
    solution = solve_challenge_v1(challenge["challenge"], challenge["salt"], challenge["algorithm"],
                                  challenge["maxNumber"])
    payload = {"algorithm": challenge["algorithm"], "challenge": challenge["challenge"], "number": solution.number,
               "salt": challenge["salt"], "signature": challenge["signature"], **tamper}
    return base64.b64encode(json.dumps(payload).encode()).decode()


def _confirm(client: Client, case, data) -> dict:
    page = client.post(f"/consultations/{case.slug}/submit/", data)
    assert page.status_code == 200
    return _challenge_of(page.content.decode())


def test_off_by_default_the_form_asks_nothing_more(client, case, at_during):
    data = form_data()
    page = client.post(f"/consultations/{case.slug}/submit/", data)
    assert "data-pow" not in page.content.decode() and "pow.js" not in page.content.decode()
    assert client.post(f"/consultations/{case.slug}/submit/", {**data, "step": "submit"}).status_code == 303


def test_switched_on_a_submission_without_the_proof_is_refused_and_nothing_is_written(client, case, at_during, clerk):
    services.case_set_proof_of_work(actor=clerk, case=case, on=True)
    data = form_data()
    response = client.post(f"/consultations/{case.slug}/submit/", {**data, "step": "submit"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "送信前の自動確認ができなかったため、まだ提出されていません" in html
    assert _challenge_of(html)["maxNumber"] == 2_000  # a new challenge to solve again
    assert Submission.objects.count() == 0


def test_a_solved_challenge_lets_the_submission_through_once(client, case, at_during, clerk):
    services.case_set_proof_of_work(actor=clerk, case=case, on=True)
    data = form_data()
    proof = _solve(_confirm(client, case, data))
    done = client.post(f"/consultations/{case.slug}/submit/", {**data, "step": "submit", "altcha": proof})
    assert done.status_code == 303 and Submission.objects.count() == 1
    # The same proof again, for another opinion: refused (a solution is good once, on any server).
    other = form_data(text="別の意見です。")
    again = client.post(f"/consultations/{case.slug}/submit/", {**other, "step": "submit", "altcha": proof})
    assert again.status_code == 400 and Submission.objects.count() == 1


def test_a_forged_expired_or_other_cases_proof_is_refused(client, case, make_case, at_during, clerk, time_machine):
    services.case_set_proof_of_work(actor=clerk, case=case, on=True)
    data = form_data()
    challenge = _confirm(client, case, data)
    forged = _solve(challenge, signature="0" * 64)
    wrong_number = _solve(challenge, number=challenge["maxNumber"] + 1)
    other_scope = _solve(pow.challenge("consultations.submit:another-case"))
    for proof in (forged, wrong_number, other_scope, "not base64 at all", ""):
        response = client.post(f"/consultations/{case.slug}/submit/", {**data, "step": "submit", "altcha": proof})
        assert response.status_code == 400, proof
    time_machine.shift(timedelta(seconds=pow.DEFAULT_TTL_SECONDS + 1))
    late = client.post(f"/consultations/{case.slug}/submit/", {**data, "step": "submit", "altcha": _solve(challenge)})
    assert late.status_code == 400
    assert Submission.objects.count() == 0


def test_the_back_button_needs_no_proof(client, case, at_during, clerk):
    services.case_set_proof_of_work(actor=clerk, case=case, on=True)
    back = client.post(f"/consultations/{case.slug}/submit/", {**form_data(), "step": "back"})
    assert back.status_code == 200 and "意見" in back.content.decode()


def test_staff_switch_it_on_and_off_audited_and_pressing_twice_changes_nothing(case, clerk, at_during):
    staff = Client()
    staff.force_login(clerk)
    url = f"/staff/consultations/{case.slug}/flood-guard/"
    detail = staff.get(f"/staff/consultations/{case.slug}/")
    assert "大量送信対策を有効にする" in detail.content.decode()
    for _ in range(2):
        response = staff.post(url, {"on": "1"}, follow=True)
        assert "大量送信対策を有効にしました。" in response.content.decode()
    case.refresh_from_db()
    assert case.proof_of_work
    staff.post(url, {"on": "0"})
    case.refresh_from_db()
    assert not case.proof_of_work
    audit.chain_pending()
    entries = AuditEntry.objects.filter(action="consultations.case_proof_of_work").order_by("seq")
    assert [e.changes["proof_of_work"] for e in entries] == [[False, True], [True, False]]


def test_nobody_but_staff_of_the_case_can_switch_it(client, case, at_during):
    response = client.post(f"/staff/consultations/{case.slug}/flood-guard/", {"on": "1"})
    assert response.status_code == 401
    case.refresh_from_db()
    assert not case.proof_of_work
