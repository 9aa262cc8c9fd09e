"""Counts that are true: every submitter counted, also those none of whose opinions is published;
how many opinions were not published and why (「うち公表しない意見 n 件」); opinions on the whole
draft under 「全体」; an early close with its day and reason."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from hiroba.consultations import exports, services
from hiroba.consultations.models import Case, Channel, ExcludeCategory
from tests.consultations.conftest import DURING, JST, approve

pytestmark = pytest.mark.django_db


def add_opinion(case, submit, clerk, text, **extra):
    Case.objects.filter(pk=case.pk).update(state=Case.State.OPEN)
    case.refresh_from_db()
    submission = submit(case, text, **extra)
    Case.objects.filter(pk=case.pk).update(state=Case.State.ANSWERING)
    case.refresh_from_db()
    return services.item_create(actor=clerk, submission=submission, span=(0, len(text)))


def test_submitters_count_everyone_also_those_whose_opinions_were_all_unpublished(
        client, answered_case, submit, clerk, approver):
    case = answered_case
    off_topic = add_opinion(case, submit, clerk, "区役所の駐車場が狭いです。", name="区民4")
    services.item_exclude(actor=clerk, item=off_topic, reason="案と関係がないため", category=ExcludeCategory.UNRELATED)
    slander = add_opinion(case, submit, clerk, "担当の職員は無能だ。", name="区民5")
    services.item_exclude(actor=clerk, item=slander, reason="特定の職員への誹謗中傷", category=ExcludeCategory.DEFAMATION)
    pub = exports.build(case)
    assert pub.submitters == 5  # three with published opinions, two with none
    assert (pub.item_count, pub.published_count, pub.unpublished_count, pub.row_count) == (5, 3, 2, 3)
    assert pub.unpublished_by_reason == [("案件に関係のない意見", 1), ("個人や団体を誹謗中傷する内容を含む意見", 1)]
    assert dict(pub.by_channel) == {"ウェブフォーム": 5}
    approve(case, clerk, approver)
    services.case_publish(actor=clerk, case=case)
    html = client.get(f"/consultations/{case.slug}/results/").content.decode()
    assert "提出者数</dt><dd>5名" in html
    assert "意見件数</dt><dd>5件（うち公表しない意見 2 件）" in html
    assert '<th scope="row">案件に関係のない意見</th><td>1件</td>' in html
    assert "区役所の駐車場" not in html and "無能" not in html
    data = client.get(f"/consultations/{case.slug}/results.json").json()["consultation"]
    assert (data["submitters"], data["items_total"], data["items_published"], data["items_unpublished"]) == (5, 5, 3, 2)
    xlsx = client.get(f"/consultations/{case.slug}/results.xlsx").content
    from io import BytesIO

    from openpyxl import load_workbook
    lines = [c.value for c in load_workbook(BytesIO(xlsx))["意見と区の考え方"]["A"] if c.value]
    assert "うち公表しない意見 2件（案件に関係のない意見 1件、個人や団体を誹謗中傷する内容を含む意見 1件）" in lines


def test_withdrawn_and_unconfirmed_submissions_are_not_counted(answered_case, submit, clerk):
    case = answered_case
    impersonated = add_opinion(case, submit, clerk, "なりすましの意見です。")
    services.item_withdraw(actor=clerk, item=impersonated, reason="なりすまし申告を認めたため")
    Case.objects.filter(pk=case.pk).update(identity_level="email", state=Case.State.OPEN)
    case.refresh_from_db()
    submit(case, "確認していない意見", email="x@example.jp")  # waits for the e-mail confirmation
    assert exports.build(case).submitters == 3


def test_opinions_on_the_whole_draft_count_under_zentai_and_show_it(answered_case, submit, clerk):
    whole = add_opinion(answered_case, submit, clerk, "全体として賛成です。")
    assert not whole.sections.exists()
    pub = exports.build(answered_case)
    assert pub.rows[-1].section == "全体"
    assert dict(pub.by_section)["全体"] == 2  # No.1 (全体 chosen) and the one with no section


def test_without_a_zentai_heading_whole_draft_opinions_come_first(make_case, submit, clerk):
    case = make_case(slug="no-zentai")
    case.sections.filter(heading="全体").delete()
    item = add_opinion(case, submit, clerk, "全体として賛成です。")
    services.item_create(actor=clerk, submission=item.submission, text="基本的な考え方に賛成。",
                         sections=[case.sections.get(heading="基本的な考え方")])
    pub = exports.build(case)
    assert pub.by_section == [("全体", 1), ("基本的な考え方", 1)]
    assert [r.section for r in pub.rows] == ["全体", "基本的な考え方"]


def test_an_early_close_needs_a_reason_and_records_the_day(case, time_machine, submit):
    time_machine.move_to(DURING)  # 2025-01-10, the period runs to 2025-02-10
    with pytest.raises(services.ConsultationError, match="令和7年2月10日.*より前に受付を終了するには、理由"):
        services.case_transition(actor="test", case=case, to=Case.State.TALLYING)
    case = services.case_transition(actor="test", case=case, to=Case.State.TALLYING,
                                    reason="案の前提となる国の制度が改正されたため", results_due_on=date(2025, 3, 31))
    assert (case.closed_on, case.close_reason, case.results_due_on) == (
        date(2025, 1, 10), "案の前提となる国の制度が改正されたため", date(2025, 3, 31))
    assert case.last_day == date(2025, 1, 10) and case.closed_early
    late = datetime(2025, 1, 14, 10, 0, tzinfo=JST)
    with pytest.raises(services.PeriodClosed, match=r"消印日（令和7年1月11日.*）が募集期間（令和7年1月5日～令和7年1月10日"):
        submit(case, "閉じた後の消印", channel=Channel.POST, at=late, received_at=late, postmark_date=date(2025, 1, 11))
    letter = submit(case, "閉じた日の消印", channel=Channel.POST, at=late, received_at=late,
                    postmark_date=date(2025, 1, 10))
    assert letter.receipt_number == "2025-DX-0001"


def test_a_case_closed_on_schedule_needs_no_reason(case, time_machine):
    time_machine.move_to(datetime(2025, 2, 11, 9, 0, tzinfo=JST))
    case = services.case_transition(actor="test", case=case, to=Case.State.TALLYING)
    assert case.closed_on is None and not case.closed_early and case.last_day == date(2025, 2, 10)


def test_the_results_of_an_early_closed_case_show_the_actual_period_and_the_reason(
        client, case, time_machine, submit, clerk, approver):
    submission = submit(case, "意見です。")
    case = services.case_transition(actor="test", case=case, to=Case.State.TALLYING, reason="制度改正のため")
    case = services.case_transition(actor="test", case=case, to=Case.State.ANSWERING)
    item = services.item_create(actor=clerk, submission=submission, span=(0, 5))
    services.answer_write(actor=clerk, items=[item], text="回答です。")
    approve(case, clerk, approver)
    services.case_publish(actor=clerk, case=case)
    html = client.get(f"/consultations/{case.slug}/results/").content.decode()
    assert "令和7年1月5日～令和7年1月10日（2025年1月5日～2025年1月10日）" in html
    assert "当初の予定では令和7年2月10日 (2025年2月10日)まで募集する予定でしたが、次の理由により受付を早く終了しました：制度改正のため" in html
    data = client.get(f"/consultations/{case.slug}/results.json").json()["consultation"]
    assert data["period"] == {"start": "2025-01-05", "end": "2025-01-10"}
    assert data["planned_period"]["end"] == "2025-02-10" and data["close_reason"] == "制度改正のため"
