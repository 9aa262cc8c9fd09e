"""The results page and the draft are cached whole for anonymous readers, and a publication —
the first version, or a 訂正 through a new approval round — is what the next reader sees."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from hiroba.consultations import services
from hiroba.core import pagecache
from tests.consultations.conftest import approve

pytestmark = pytest.mark.django_db

CORRECTED = "オンライン申請の対象を、令和7年度から順次広げてまいります。"


def _read(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return response.get(pagecache.STATUS_HEADER), response.content.decode()


def test_a_correction_published_through_the_approval_path_is_served_at_once(
        client, approved_case, clerk, approver, django_capture_on_commit_callbacks):
    case, url = approved_case, f"/consultations/{approved_case.slug}/results/"
    services.case_publish(actor=clerk, case=case, reported_on=date(2025, 3, 13))
    assert _read(client, url)[0] == "miss"
    state, first = _read(client, url)
    assert state == "hit" and CORRECTED not in first
    services.approval_reopen(actor=clerk, case=case, reason="No.3 の回答の誤記")
    services.answer_write(actor=clerk, items=[case.items.get(number=3)], text=CORRECTED)
    approve(case, clerk, approver, correction_note="No.3 の区の考え方の記載を訂正しました。")
    with django_capture_on_commit_callbacks(execute=True):
        services.case_publish(actor=clerk, case=case, reported_on=date(2025, 3, 27))
    state, page = _read(client, url)
    assert state == "miss" and CORRECTED in page and "訂正（第2版）" in page
    assert _read(client, url) == ("hit", page)
    old_state, old = _read(client, f"{url}v1/")
    assert old_state == "miss" and "訂正前の版（第1版）" in old


def test_the_draft_page_is_cached_and_follows_the_case(client, answered_case, clerk):
    url = f"/consultations/{answered_case.slug}/"
    _read(client, url)
    state, before = _read(client, url)
    assert state == "hit" and "令和7年4月30日" not in before
    services.case_update_details(actor=clerk, case=answered_case, results_due_on=date(2025, 4, 30))
    state, after = _read(client, url)
    assert state == "miss" and "令和7年4月30日" in after


def test_a_signed_in_reader_gets_their_own_results_page(client, approved_case, clerk, resident):
    services.case_publish(actor=clerk, case=approved_case)
    url = f"/consultations/{approved_case.slug}/results/"
    _read(client, url)
    assert _read(client, url)[0] == "hit"
    client.force_login(resident)
    state, page = _read(client, url)
    assert state is None and "ログアウト" in page


@time_machine.travel("2025-01-10 10:00 +0900", tick=False)
def test_the_submission_form_is_never_cached(client, make_case):
    case = make_case()
    url = f"/consultations/{case.slug}/submit/"
    client.get(url)
    response = client.get(url)
    assert pagecache.STATUS_HEADER not in response and b"csrfmiddlewaretoken" in response.content
