"""Weighty steps ask first and say what will happen (issue 12.9): 募集を締め切る (with a required
reason when it closes early), 決裁に回す and 結果を公表する; the first click changes nothing."""

from __future__ import annotations

import pytest

from hiroba.consultations import services
from hiroba.consultations.models import ApprovalRound, Case
from hiroba.core.models import AuditEntry
from tests.consultations.conftest import DURING

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    return response.content.decode()


def test_closing_early_asks_first_and_needs_a_reason_that_is_published(client, clerk, make_case, submit,
                                                                       time_machine):
    case = make_case()
    submit(case)
    time_machine.move_to(DURING)
    client.force_login(clerk)
    url = f"/staff/consultations/{case.slug}/state/"

    first = client.post(url, {"to": "tallying", "reason": "", "results_due_on": ""})
    assert first.status_code == 200
    html = _text(first)
    assert "確認：募集を締め切る" in html and "元には戻せません" in html and "受付済みの意見：1 件" in html
    assert "より前に締め切ります。理由を入力してください。" in html
    assert 'name="confirmed" value="yes"' in html and 'name="to" value="tallying"' in html
    assert Case.objects.get(pk=case.pk).state == Case.State.OPEN  # nothing happened yet

    no_reason = client.post(url, {"to": "tallying", "reason": " ", "confirmed": "yes"})
    assert no_reason.status_code == 400
    assert "募集期間の最終日より前に締め切るには、理由を入力してください。" in _text(no_reason)
    assert Case.objects.get(pk=case.pk).state == Case.State.OPEN

    done = client.post(url, {"to": "tallying", "reason": "案の内容を見直すため", "confirmed": "yes"})
    assert done.status_code == 302
    case.refresh_from_db()
    assert case.state == Case.State.TALLYING and case.close_reason == "案の内容を見直すため"
    assert case.closed_on == DURING.date()
    entry = AuditEntry.objects.filter(action="consultations.case_transition").latest("seq")
    assert entry.changes["reason"] == "案の内容を見直すため"
    detail = client.get(f"/consultations/{case.slug}/")
    assert "案の内容を見直すため" in _text(detail)


def test_closing_on_time_asks_without_requiring_a_reason(client, staff_client, make_case):
    case = make_case()  # its period ended long ago
    first = staff_client.post(f"/staff/consultations/{case.slug}/state/", {"to": "tallying"})
    assert first.status_code == 200 and "理由を入力してください" not in _text(first)
    assert staff_client.post(f"/staff/consultations/{case.slug}/state/",
                             {"to": "tallying", "confirmed": "yes"}).status_code == 302
    assert Case.objects.get(pk=case.pk).state == Case.State.TALLYING


def _answered(case, submit):
    submission = submit(case, "図書館の開館時間を延長してください。")
    item = services.item_create(actor="test", submission=submission, span=(0, len(submission.text)))
    Case.objects.filter(pk=case.pk).update(state=Case.State.ANSWERING)
    services.answer_write(actor="test", items=[item], text="検討します。")
    return item


def test_sending_for_approval_asks_first_and_says_what_is_frozen(client, clerk, make_case, submit):
    staff_client = client
    client.force_login(clerk)
    case = make_case()
    _answered(case, submit)
    url = f"/staff/consultations/{case.slug}/approval/"
    first = staff_client.post(url, {"action": "request", "comment": "ご確認ください"})
    html = _text(first)
    assert first.status_code == 200 and "確認：決裁に回す" in html
    assert "決裁が終わるまで変更できなくします" in html and "「所属の承認者」の決裁者に、メールで知らせます。" in html
    assert "公表する意見 1 件、回答 1 件" in html
    assert 'name="comment" value="ご確認ください"' in html
    assert not ApprovalRound.objects.exists()
    assert staff_client.post(url, {"action": "request", "comment": "ご確認ください",
                                   "confirmed": "yes"}).status_code == 302
    assert ApprovalRound.objects.get().comment == "ご確認ください"


def test_publishing_asks_first(client, clerk, approver, make_case, submit):
    staff_client = client
    client.force_login(clerk)
    case = make_case()
    _answered(case, submit)
    services.approval_request(actor=clerk, case=case)
    services.approval_decide(actor=approver, round_=ApprovalRound.objects.get(), approve=True)
    url = f"/staff/consultations/{case.slug}/publish/"
    first = staff_client.post(url, {})
    html = _text(first)
    assert first.status_code == 200 and "確認：結果を公表する" in html and "公表した内容は変更できません" in html
    assert Case.objects.get(pk=case.pk).state == Case.State.APPROVING
    assert staff_client.post(url, {"confirmed": "yes"}).status_code == 302
    assert Case.objects.get(pk=case.pk).state == Case.State.PUBLISHED


def test_the_confirmation_pages_are_english(staff_client, make_case):
    case = make_case()
    html = _text(staff_client.post(f"/staff/consultations/{case.slug}/state/", {"to": "tallying"},
                                   HTTP_ACCEPT_LANGUAGE="en"))
    assert "Confirm: Close the comment period" in html and "cannot be undone" in html
