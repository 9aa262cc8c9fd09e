"""A whole デジタル活用提案 round in Chromium: a resident proposes, two reviewers score blind, staff
shortlist, three residents vote (one changes their vote), the call closes, the results show the
right counts and one proposal is adopted with a follow-up record. axe checks the public pages."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.conf import settings
from django.test import Client

from hiroba.accounts.models import Relationship, Role, StaffMembership
from hiroba.core.models import AuditEntry
from hiroba.proposals import services
from hiroba.proposals.models import CallResult, FollowUp, Proposal, ReviewAssignment
from tests.browser.conftest import assert_accessible
from tests.proposals.conftest import (
    DATES,
    DURING_SCREENING,
    DURING_SUBMISSION,
    DURING_VOTING,
    RESULTS_DAY,
)

pytestmark = pytest.mark.django_db(transaction=True)


def sign_in(page, live_server, user) -> None:
    """Start a fresh session for `user` in the browser (sign-in itself is tested elsewhere)."""
    client = Client()
    client.force_login(user)
    page.context.clear_cookies()
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME,
                               "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                               "url": live_server.url}])


@pytest.fixture
def people(make_staff, departments, django_user_model):
    from allauth.account.models import EmailAddress

    def staff(email, role, department="digital"):
        s = make_staff(email=email, department=department, role=role, display_name=email.split("@")[0])
        StaffMembership.objects.filter(user=s.user).update(starts_on=date(2020, 4, 1))
        return s.user

    handler = staff("handler@example.jp", Role.HANDLE)
    approver = staff("approver@example.jp", Role.APPROVE)
    reviewers = [staff(f"judge{i}@example.jp", Role.READ, department=None) for i in (1, 2)]
    residents = []
    for i, name in enumerate(["提案 する子", "投票 一郎", "投票 二郎", "投票 三郎"]):
        user = django_user_model.objects.create_user(email=f"r{i}@example.jp", password="x" * 12, display_name=name)
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
        services.voter_verify(actor=handler, user=user, display_name=name, residency=Relationship.RESIDENT,
                              birth_date=date(1985, 1, 1), name_kana=f"とうひょう {i}", address=f"千代田区{i}")
        residents.append(user)
    return {"handler": handler, "approver": approver, "reviewers": reviewers, "residents": residents}


def test_a_whole_call_runs_in_the_browser(page, live_server, people, departments, time_machine):
    handler, approver = people["handler"], people["approver"]
    proposer, *voters = people["residents"]
    time_machine.move_to(DURING_SUBMISSION, tick=True)
    call = services.call_create(actor=handler, department=departments["digital"], title="デジタル活用提案 2025",
                                theme="地域の課題をデジタルで解決する", slug="dx-2025", receipt_prefix="DX25",
                                publish=True, **DATES)
    others = []
    for title in ("防災情報をSNSで届ける", "粗大ごみを電子申請にする"):
        others.append(services.proposal_submit_on_behalf(
            actor=handler, call=call, title=title, problem="課題", idea="アイデア", beneficiaries="区民",
            proposer_label="町会有志", source="paper"))

    # 1. A resident proposes: form → confirmation → 受付番号.
    sign_in(page, live_server, proposer)
    page.goto("/proposals/")
    assert_accessible(page)
    page.get_by_role("link", name="デジタル活用提案 2025").click()
    assert_accessible(page)
    page.get_by_role("link", name="提案する").click()
    page.locator("#id_title").fill("スクールカレンダーをiCalendarで公開")
    page.locator("#id_problem").fill("学校の行事予定を手で書き写している。")
    page.locator("#id_idea").fill("行事予定をiCalendar形式で配信し、スマートフォンで購読できるようにする。")
    page.locator("#id_beneficiaries").fill("小中学生の保護者")
    assert_accessible(page)
    page.get_by_role("button", name="確認画面へ進む").click()
    assert "まだ受け付けていません" in page.content()
    assert_accessible(page)
    page.get_by_role("button", name="この内容で提案する").click()
    receipt = page.locator(".receipt-number").inner_text()
    assert receipt == "DX25-0003"
    assert_accessible(page)
    mine = Proposal.objects.get(receipt_number=receipt)

    # 2. Two reviewers score blind.
    time_machine.move_to(DURING_SCREENING, tick=True)
    sign_in(page, live_server, handler)
    page.goto(f"/staff/proposals/{call.slug}/reviewers/")
    for judge in people["reviewers"]:
        page.locator("#id_email").fill(judge.email)
        page.get_by_role("button", name="審査員を追加する").click()
    page.get_by_role("button", name="審査を自動で割り当てる").click()
    assert "6件の審査を割り当てました" in page.content()
    criteria = list(call.criteria.all())
    for n, judge in enumerate(people["reviewers"]):
        sign_in(page, live_server, judge)
        page.goto("/staff/proposals/reviews/")
        assert page.locator("tbody tr").count() == 3
        for assignment in ReviewAssignment.objects.filter(reviewer__user=judge).order_by("proposal__receipt_number"):
            page.goto(f"/staff/proposals/reviews/{assignment.pk}/")
            html = page.content()
            assert proposer.email not in html and "提案 する子" not in html and "町会有志" not in html
            value = 5 if assignment.proposal_id == mine.pk else (3 if assignment.proposal_id == others[0].pk else 1 + n)
            for c in criteria:
                page.check(f"input[name=c{c.pk}][value='{value}']")
            page.locator("#id_comment").fill("効果が期待できる")
            page.get_by_role("button", name="採点を保存する").click()
            assert "採点を保存しました" in page.content()
    assert ReviewAssignment.objects.filter(status="submitted").count() == 6

    # 3. Staff (承認) shortlist with reasons.
    sign_in(page, live_server, approver)
    page.goto(f"/staff/proposals/{call.slug}/screening/")
    assert "標準化得点" in page.content()
    for proposal, shortlist in ((mine, True), (others[0], True), (others[1], False)):
        page.check(f"#d-{proposal.pk}-{'s' if shortlist else 'n'}")
        page.locator(f"#d-{proposal.pk}-r").fill("審査会で協議し決定")
        page.locator(f"form:has(#d-{proposal.pk}-s) button").click()
        assert "審査結果を記録しました" in page.content()
    assert Proposal.objects.filter(screening_decision="shortlisted").count() == 2

    # 4. Three residents vote; one changes their vote.
    time_machine.move_to(DURING_VOTING, tick=True)
    plans = [[mine, others[0]], [mine], [others[0]]]
    for voter, chosen in zip(voters, plans, strict=True):
        sign_in(page, live_server, voter)
        page.goto(f"/proposals/{call.slug}/vote/")
        assert_accessible(page)
        for p in chosen:
            page.check(f"input[name=proposals][value='{p.pk}']")
        page.get_by_role("button", name="投票する").click()
        assert f"投票を受け付けました（{len(chosen)}票）" in page.content()
    page.uncheck(f"input[name=proposals][value='{others[0].pk}']")
    page.check(f"input[name=proposals][value='{mine.pk}']")
    page.get_by_role("button", name="投票を変更する").click()
    assert "投票を受け付けました（1票）" in page.content()
    assert_accessible(page)

    # 5. The call closes; 承認 staff publish the results.
    time_machine.move_to(RESULTS_DAY, tick=True)
    sign_in(page, live_server, voters[0])
    page.goto(f"/proposals/{call.slug}/vote/")
    assert "投票期間外" in page.content()
    sign_in(page, live_server, approver)
    page.goto(f"/staff/proposals/{call.slug}/")
    page.get_by_role("button", name="結果を集計して公表する").click()
    assert "応募 3件、投票 3人・4票" in page.content()
    result = CallResult.objects.get(call=call)
    page.goto(f"/proposals/{call.slug}/results/")
    assert page.get_by_test_id("applications").inner_text() == "3"
    assert page.get_by_test_id("voters").inner_text() == "3"
    assert page.get_by_test_id("votes").inner_text() == "4"
    assert page.get_by_test_id("digest").inner_text() == result.digest
    assert re.search(r"DX25-0003.*?スクールカレンダーをiCalendarで公開.*?>3<", page.content(), re.S)
    assert "一致しています" in page.content()
    assert_accessible(page)

    # 6. One proposal is adopted, with a follow-up record shown publicly.
    page.goto(f"/staff/proposals/{call.slug}/p/{receipt}/")
    page.locator("#id_adopt-reason").fill("得票1位。教育委員会と連携して実施する")
    page.locator("#id_adopt-budget_step").fill("令和8年度予算要求")
    page.get_by_role("button", name="採用する").click()
    assert "事業化の記録を作成しました" in page.content()
    page.locator("#id_milestone-title").fill("仕様の検討")
    page.locator("#id_milestone-due_on").fill("2025-10-31")
    page.get_by_role("button", name="節目を追加する").click()
    assert FollowUp.objects.get(proposal=mine).milestones.count() == 1
    page.context.clear_cookies()
    page.goto("/proposals/adopted/")
    assert "スクールカレンダーをiCalendarで公開" in page.content() and "仕様の検討" in page.content()
    assert page.get_by_test_id("followup-status").inner_text() == "事業化を検討中"
    assert_accessible(page)
    actions = set(AuditEntry.objects.filter(action__startswith="proposals.").values_list("action", flat=True))
    assert {"proposals.review_submit", "proposals.proposal_decide", "proposals.results_publish",
            "proposals.proposal_adopt", "proposals.milestone_add"} <= actions
