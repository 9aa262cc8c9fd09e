"""The consultation workflow's services: rules, numbering, locks, versions and the audit log."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.db import connection

from hiroba.consultations import services
from hiroba.consultations.models import (
    ApprovalRound,
    Case,
    Channel,
    ImpersonationReport,
    Item,
    Mask,
    Routing,
    Submission,
)
from hiroba.core import audit
from hiroba.core.models import AuditEntry
from tests.consultations.conftest import DURING, key

pytestmark = pytest.mark.django_db


def test_it_requires_a_reason_for_a_period_below_the_minimum(departments, settings):
    settings.CONSULTATIONS_MIN_PERIOD_DAYS = 30
    kwargs = dict(actor="test", slug="short", title="短い案件", department=departments["digital"],
                  period_start=date(2025, 1, 5), period_end=date(2025, 1, 20), channels=[Channel.WEB])
    with pytest.raises(services.ConsultationError, match="16日間.*30日間"):
        services.case_create(**kwargs)
    case = services.case_create(**kwargs, short_period_reason="年度内の改定に間に合わせるため")
    assert case.period_days == 16
    assert Case.objects.count() == 1


def test_thirty_days_both_inclusive_needs_no_reason(departments):
    case = services.case_create(actor="test", slug="ok", title="案", department=departments["digital"],
                                period_start=date(2025, 1, 1), period_end=date(2025, 1, 30), channels=[Channel.WEB])
    assert case.period_days == 30


def test_states_change_only_forward_and_every_change_is_audited(make_case):
    case = make_case(state=Case.State.PREPARING)
    services.case_transition(actor="test", case=case, to=Case.State.OPEN)
    with pytest.raises(services.ConsultationError):
        services.case_transition(actor="test", case=case, to=Case.State.PUBLISHED)
    with pytest.raises(services.ConsultationError):
        services.case_transition(actor="test", case=case, to=Case.State.PREPARING)
    services.case_transition(actor="test", case=case, to=Case.State.TALLYING)
    entries = AuditEntry.objects.filter(action="consultations.case_transition", object_id=str(case.pk))
    assert [e.changes["state"] for e in entries] == [["preparing", "open"], ["open", "tallying"]]


def test_receipt_numbers_follow_a_per_case_sequence(make_case, submit):
    first, second = make_case(slug="a"), make_case(slug="b")
    numbers = [submit(first).receipt_number, submit(first).receipt_number, submit(second).receipt_number]
    assert numbers == ["2025-DX-0001", "2025-DX-0002", "2025-DX-0001"]
    assert Submission.objects.get(receipt_number="2025-DX-0002").case == first


def test_receipt_numbers_grow_past_four_digits_as_the_python_rule_says(case, submit):
    """On PostgreSQL the number is formatted in SQL: it must match `services.receipt_number`."""
    Case.objects.filter(pk=case.pk).update(next_receipt_seq=9999)
    numbers = [submit(case).receipt_number, submit(case).receipt_number]
    assert numbers == ["2025-DX-9999", "2025-DX-10000"]
    assert numbers == [services.receipt_number(case, 9999), services.receipt_number(case, 10000)]
    assert list(Submission.objects.order_by("receipt_seq").values_list("receipt_seq", "receipt_number")) == [
        (9999, "2025-DX-9999"), (10000, "2025-DX-10000")]


def test_it_is_idempotent_on_retry(case, time_machine):
    time_machine.move_to(DURING)
    k = key()
    one, created = services.submission_receive(actor="resident", case=case, idempotency_key=k, channel=Channel.WEB,
                                               text="同じ意見")
    two, created_again = services.submission_receive(actor="resident", case=case, idempotency_key=k,
                                                     channel=Channel.WEB, text="同じ意見")
    assert created and not created_again and one.pk == two.pk
    assert Submission.objects.count() == 1
    case.refresh_from_db()
    assert case.next_receipt_seq == 2  # a retry never burns a number


def test_a_submission_is_audited_without_personal_information(case, submit):
    submission = submit(case, name="区民 花子", email="hanako@example.jp")
    assert audit.chain_pending() == 1  # written pending, in the submission's own statement
    entry = AuditEntry.objects.get(action="consultations.submission_receive")
    assert entry.object_id == str(submission.pk)
    assert entry.changes == {"case": case.slug, "channel": "web"}
    assert audit.verify_chain().ok
    assert entry.object_repr == submission.receipt_number
    assert "hanako" not in str(entry.changes) and "花子" not in str(entry.changes)


def test_the_original_can_never_be_changed_or_deleted(case, submit):
    submission = submit(case, text="原文")
    submission.text = "書き換え"
    with pytest.raises(PermissionError):
        submission.save()
    with pytest.raises(PermissionError):
        submission.delete()
    assert Submission.objects.get(pk=submission.pk).text == "原文"


@pytest.mark.parametrize("moment, accepted", [
    ((2025, 1, 4, 23, 59, 59), False), ((2025, 1, 5, 0, 0, 0), True),
    ((2025, 2, 10, 23, 59, 59), True), ((2025, 2, 11, 0, 0, 0), False),
])
def test_web_submissions_are_accepted_only_inside_the_jst_period(case, time_machine, moment, accepted):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    time_machine.move_to(datetime(*moment, tzinfo=ZoneInfo("Asia/Tokyo")), tick=False)
    if accepted:
        services.submission_receive(actor="resident", case=case, idempotency_key=key(), channel=Channel.WEB, text="意見")
        assert Submission.objects.count() == 1
    else:
        with pytest.raises(services.PeriodClosed):
            services.submission_receive(actor="resident", case=case, idempotency_key=key(), channel=Channel.WEB,
                                        text="意見")
        assert Submission.objects.count() == 0
        case.refresh_from_db()
        assert case.next_receipt_seq == 1


def test_a_letter_posted_in_the_period_is_accepted_after_closing(case, submit):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    Case.objects.filter(pk=case.pk).update(state=Case.State.TALLYING)
    case.refresh_from_db()
    late = datetime(2025, 2, 13, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    letter = submit(case, "郵送の意見", channel=Channel.POST, at=late, received_at=late,
                    postmark_date=date(2025, 2, 10))
    assert letter.receipt_number == "2025-DX-0001"
    with pytest.raises(services.PeriodClosed):
        submit(case, "遅い消印", channel=Channel.POST, at=late, received_at=late, postmark_date=date(2025, 2, 11))


def test_itemising_keeps_the_original_and_ties_items_to_sections(case, submit):
    submission = submit(case, text="一つ目の意見です。二つ目の意見です。")
    sections = {s.heading: s for s in case.sections.all()}
    first = services.item_create(actor="test", submission=submission, span=(0, 9), sections=[sections["全体"]])
    second = services.item_create(actor="test", submission=submission, text="二つ目（書き起こし）",
                                  sections=[sections["全体"], sections["重点方針と取組み"]])
    assert first.text == "一つ目の意見です。" and (first.span_start, first.span_end) == (0, 9)
    assert second.span_start is None and second.number == 2
    assert Submission.objects.get(pk=submission.pk).text == "一つ目の意見です。二つ目の意見です。"
    assert AuditEntry.objects.filter(action="consultations.item_create").count() == 2


def test_an_item_can_be_left_out_only_with_a_reason(case, submit):
    item = services.item_create(actor="test", submission=submit(case), text="案と関係ない話")
    with pytest.raises(services.ConsultationError):
        services.item_exclude(actor="test", item=item, reason="  ")
    services.item_exclude(actor="test", item=item, reason="案と関係がないため")
    item.refresh_from_db()
    assert item.excluded and not item.is_published


def _answered_case(case, submit, n=2):
    items = [services.item_create(actor="test", submission=submit(case), text=f"意見{i}") for i in range(n)]
    Case.objects.filter(pk=case.pk).update(state=Case.State.ANSWERING)
    case.refresh_from_db()
    return items


def test_same_intent_items_share_one_answer(case, submit, standard_answer):
    items = _answered_case(case, submit, 3)
    standard = standard_answer
    answer = services.answer_write(actor="test", items=items[:2], text=standard.text)
    services.answer_assign(actor="test", item=items[2], answer=answer)
    assert answer.items.count() == 3
    assert answer.text.startswith("個別事業に関わる提案内容については担当部署に共有し")


def test_approval_locks_answers_and_a_change_needs_a_new_versioned_round(case, submit, approver, clerk):
    items = _answered_case(case, submit)
    answer = services.answer_write(actor=clerk, items=items, text="第1版の回答")
    round1 = services.approval_request(actor=clerk, case=case)
    case.refresh_from_db()
    assert case.state == Case.State.APPROVING
    services.approval_decide(actor=approver, round_=round1, approve=True)
    with pytest.raises(services.AnswersLocked):
        services.answer_update(actor=clerk, answer=answer, text="勝手に修正")
    services.approval_reopen(actor=clerk, case=case, reason="誤字の修正")
    services.answer_update(actor=clerk, answer=answer, text="第2版の回答")
    round2 = services.approval_request(actor=clerk, case=case)
    assert round2.number == 2
    assert round1.snapshot["answers"] == {str(answer.pk): 1}
    assert round2.snapshot["answers"] == {str(answer.pk): 2}
    assert list(answer.versions.values_list("version", "text")) == [(1, "第1版の回答"), (2, "第2版の回答")]
    services.approval_decide(actor=approver, round_=round2, approve=True)
    services.case_publish(actor=clerk, case=case)
    case.refresh_from_db()
    assert case.state == Case.State.PUBLISHED
    assert AuditEntry.objects.filter(action="consultations.approval_approve").count() == 2
    assert AuditEntry.objects.filter(action="consultations.approval_reopen").exists()


def test_it_refuses_approval_with_unanswered_items_and_publication_without_approval(case, submit, clerk):
    items = _answered_case(case, submit)
    services.answer_write(actor=clerk, items=items[:1], text="回答")
    with pytest.raises(services.ConsultationError, match="No. 2"):
        services.approval_request(actor=clerk, case=case)
    services.answer_write(actor=clerk, items=items[1:], text="回答2")
    services.approval_request(actor=clerk, case=case)
    with pytest.raises(services.ConsultationError, match="承認されていません"):
        services.case_publish(actor=clerk, case=case)


def test_a_returned_round_sends_the_case_back_with_a_reason(case, submit, approver, clerk):
    items = _answered_case(case, submit, 1)
    services.answer_write(actor=clerk, items=items, text="回答")
    round_ = services.approval_request(actor=clerk, case=case)
    with pytest.raises(services.ConsultationError):
        services.approval_decide(actor=approver, round_=round_, approve=False)
    services.approval_decide(actor=approver, round_=round_, approve=False, comment="表現を見直すこと")
    case.refresh_from_db()
    assert case.state == Case.State.ANSWERING
    assert ApprovalRound.objects.get(pk=round_.pk).state == ApprovalRound.State.RETURNED


def test_routing_puts_the_item_in_the_other_departments_queue(case, submit, make_staff, departments):
    from hiroba.accounts.models import Role
    from hiroba.consultations import queries

    item = services.item_create(actor="test", submission=submit(case), text="介護の意見")
    care = make_staff(email="care@example.jp", department="care", role=Role.HANDLE).user
    digital = make_staff(email="dig@example.jp", department="digital", role=Role.HANDLE).user
    routing = services.routing_create(actor=digital, item=item, department=departments["care"],
                                      due_date=date(2025, 3, 1), note="ご確認ください")
    assert list(queries.routing_queue(care)) == [routing]
    assert list(queries.routing_queue(digital)) == []
    with pytest.raises(services.ConsultationError):
        services.routing_create(actor=digital, item=item, department=departments["care"], due_date=date(2025, 3, 1))
    services.routing_complete(actor=care, routing=routing, response="次期計画で検討します")
    assert list(queries.routing_queue(care)) == []
    assert Routing.objects.get(pk=routing.pk).state == Routing.State.DONE


def test_an_upheld_impersonation_report_withdraws_the_items_with_the_reason(case, submit, clerk):
    submission = submit(case, name="区民 太郎")
    item = services.item_create(actor="test", submission=submission, text="なりすましの意見")
    report = services.impersonation_report_create(case=case, receipt_number=submission.receipt_number,
                                                  reporter_name="区民 太郎", reporter_contact="03-0000-0000",
                                                  statement="私は提出していません")
    assert report.submission == submission
    services.impersonation_review(actor=clerk, report=report, uphold=True, note="本人に電話で確認")
    item.refresh_from_db()
    assert item.withdrawn and "本人に電話で確認" in item.withdraw_reason
    assert ImpersonationReport.objects.get().state == ImpersonationReport.State.UPHELD
    assert AuditEntry.objects.filter(action="consultations.item_withdraw").exists()


def test_structured_personal_information_is_masked_and_names_are_flagged(case, submit):
    text = ("連絡先は090-1234-5678、hanako@example.jp、〒102-8688 千代田区九段南1-2-1 です。"
            "区立昌平小学校に通う長男のことです。")
    item = services.item_create(actor="test", submission=submit(case, text=text), text=text)
    kinds = {m.kind: m.decision for m in item.masks.all()}
    assert kinds["phone"] == kinds["email"] == kinds["postal_code"] == Mask.Decision.MASK
    assert kinds["address"] == Mask.Decision.MASK
    assert kinds["school"] == kinds["family"] == Mask.Decision.PENDING
    published = services.masked_text(item)
    assert "090-1234-5678" not in published and "hanako@" not in published and "昌平小学校" not in published
    school = item.masks.get(kind="school")
    services.mask_decide(actor="test", mask=school, decision=Mask.Decision.KEEP, note="公表済みの学校名")
    phone = item.masks.get(kind="phone")
    services.mask_decide(actor="test", mask=phone, decision=Mask.Decision.KEEP, note="区の代表番号")
    published = services.masked_text(Item.objects.get(pk=item.pk))
    assert "昌平小学校" in published and "090-1234-5678" in published and "hanako@" not in published


def test_the_detector_is_injectable(case, submit):
    def detector(text):
        return [{"start": 0, "end": 2, "kind": "person_name"}]

    item = services.item_create(actor="test", submission=submit(case, text="山田です"), text="山田です",
                                detector=detector)
    assert [(m.start, m.end, m.decision) for m in item.masks.all()] == [(0, 2, Mask.Decision.PENDING)]
    assert services.masked_text(item) == "＊＊＊です"


@pytest.mark.postgres  # in-memory SQLite has one shared connection; the flood test covers SQLite files
@pytest.mark.django_db(transaction=True)
def test_concurrent_submissions_get_distinct_consecutive_numbers(make_case, time_machine):
    time_machine.move_to(DURING)
    case = make_case()
    numbers: list[str] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(5):
                s, _ = services.submission_receive(actor="resident", case=case, idempotency_key=key(),
                                                   channel=Channel.WEB, text="同時の意見")
                numbers.append(s.receipt_number)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(numbers) == [f"2025-DX-{i:04d}" for i in range(1, 21)]
