"""Public comment end to end in Chromium: a resident reads the draft, submits with a
confirmation step and gets a 受付番号; a staff member itemises, answers with a standard
answer, routes to another department, approves and publishes. axe checks the public pages."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
from django.utils import timezone

from hiroba.accounts.models import Role
from hiroba.consultations import services
from hiroba.consultations.models import Case, Channel, Routing, Submission
from tests.browser.conftest import assert_accessible
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def open_case(departments):
    today = timezone.localdate()
    case = services.case_create(
        actor="test", slug="dx-draft", title="千代田区DX戦略（素案）", department=departments["digital"],
        period_start=today - timedelta(days=3), period_end=today + timedelta(days=30),
        channels=[Channel.HAND, Channel.POST, Channel.WEB], receipt_code="DX",
        eligibility=["resident", "worker", "student"],
        submit_address="〒102-8688 千代田区九段南1-2-1 千代田区役所 デジタル政策課", hand_in_place="区役所4階 デジタル政策課窓口",
    )
    for number, heading in [("1", "全体"), ("2", "基本的な考え方"), ("3", "重点方針と取組み")]:
        services.section_add(actor="test", case=case, number=number, heading=heading, body=f"{heading}の本文です。")
    services.case_transition(actor="test", case=case, to=Case.State.OPEN)
    return case


@pytest.fixture
def paper_answer(db):
    """Seeded by migration 0002, but transactional tests flush it: make sure it is there."""
    from hiroba.consultations.models import StandardAnswer
    from tests.consultations.conftest import PAPER_ANSWER

    return StandardAnswer.objects.get_or_create(title="個別事業に関わる提案（担当部署に共有）",
                                                defaults={"text": PAPER_ANSWER})[0]


def sign_in(page, staff) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("メールアドレス").fill(staff.user.email)
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン", exact=True).click()
    page.wait_for_url("**/accounts/2fa/authenticate/**")
    page.locator("input[name=code]").fill(pyotp.TOTP(staff.totp_secret).now())
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url("**/staff/")


def test_a_resident_submits_and_staff_answer_approve_and_publish(page, open_case, make_staff, paper_answer):
    """(The approval is decided by a second approver: the drafter may not approve their own.)"""
    year = open_case.period_start.year
    # --- the resident ---
    page.goto("/consultations/")
    assert_accessible(page)
    page.get_by_role("link", name=open_case.title).click()
    assert_accessible(page)
    page.get_by_role("link", name=re.compile("この箇所に意見を出す.*重点方針と取組み")).click()
    assert page.get_by_label("該当箇所").input_value() == str(open_case.sections.get(heading="重点方針と取組み").pk)
    page.get_by_role("button", name="確認画面へ進む").click()  # empty: errors
    assert "入力内容を確認してください" in page.get_by_role("alert").inner_text()
    assert_accessible(page)
    page.get_by_label("氏名").fill("区民 花子")
    page.get_by_label("住所").fill("千代田区九段南1-2-1")
    page.get_by_label("区分").select_option(label="在住")
    page.locator("#id_text").fill("商店街のPRをデジタルで定期的に行ってほしい。<script>alert(1)</script>")
    page.get_by_role("button", name="確認画面へ進む").click()
    assert page.locator("h1").inner_text() == "入力内容の確認"
    assert "<script>alert(1)</script>" in page.locator(".opinion-text").inner_text()
    assert_accessible(page)
    assert Submission.objects.count() == 0
    page.get_by_role("button", name="この内容で提出する").click()
    number = page.locator("#receipt-number").inner_text()
    assert number == f"{year}-DX-0001"
    assert_accessible(page)
    # --- the staff member (承認 role: may itemise, answer and approve) ---
    staff = make_staff(email="dx.approver@example.jp", role=Role.APPROVE)
    make_staff(email="care@example.jp", department="care", role=Role.HANDLE)
    sign_in(page, staff)
    page.goto(f"/staff/consultations/{open_case.slug}/")
    page.get_by_role("link", name=number).click()
    assert "商店街のPR" in page.locator("#itemise-original").input_value()
    # the resident chose the section: the opinion is already item No.1 of it (issue 12.8)
    assert "No.1（重点方針と取組み）" in page.locator("#items-title + ul").inner_text()
    page.get_by_role("link", name="No.1").first.click()
    Case.objects.filter(pk=open_case.pk).update(state=Case.State.ANSWERING)  # after the period closes
    page.reload()
    page.get_by_label("定型回答").select_option(label="個別事業に関わる提案（担当部署に共有）")
    page.get_by_role("button", name="定型回答を挿入").click()
    assert "担当部署に共有し" in page.get_by_role("textbox", name="区の考え方").input_value()
    page.get_by_role("button", name="回答を保存").click()
    page.get_by_label("共有先の所属").select_option(label="保健福祉部 高齢介護課")
    page.get_by_label("期限").fill((timezone.localdate() + timedelta(days=7)).isoformat())
    page.get_by_label("依頼内容").fill("商店街の施策としてご確認ください。")
    page.get_by_role("button", name="共有する").click()
    assert Routing.objects.get().department.code == "care"
    page.goto(f"/staff/consultations/{open_case.slug}/approval/")
    page.get_by_role("button", name="決裁に回す").click()
    assert page.locator("h1").inner_text() == "確認：決裁に回す"  # what will happen, before it happens
    assert_accessible(page)
    page.get_by_role("button", name="決裁に回す").click()
    # the drafter may not approve their own request: another approver decides
    assert page.get_by_role("button", name="決裁する").count() == 0
    assert "「所属の承認者」の段階の決裁を待っています。" in page.content()
    assert_accessible(page)
    page.context.clear_cookies()
    sign_in(page, make_staff(email="kacho@example.jp", role=Role.APPROVE))
    page.goto(f"/staff/consultations/{open_case.slug}/approval/")
    page.get_by_label("承認", exact=True).check()
    page.get_by_label("コメント（差戻しの場合は理由）").fill("確認しました。")
    page.get_by_role("button", name="決裁する").click()
    assert "承認済み" in page.content() and "確認しました。" in page.content()
    page.goto(f"/staff/consultations/{open_case.slug}/publish/")
    page.get_by_role("button", name="結果を公表する").click()
    assert page.locator("h1").inner_text() == "確認：結果を公表する"
    assert "公表した内容は変更できません" in page.locator("main").inner_text()
    assert_accessible(page)
    page.get_by_role("button", name="結果を公表する").click()
    assert "公表済" in page.content()
    # --- the published results ---
    page.goto(f"/consultations/{open_case.slug}/results/")
    assert "提出者数" in page.content() and "個別事業に関わる提案内容" in page.content()
    assert page.locator("svg.chart").count() == 2
    assert_accessible(page)


def test_a_closed_case_and_the_approval_route_page_are_accessible(page, open_case, make_staff):
    Case.objects.filter(pk=open_case.pk).update(state=Case.State.TALLYING,
                                                results_due_on=timezone.localdate() + timedelta(days=60))
    page.goto(f"/consultations/{open_case.slug}/")
    assert "受付を終了しました。結果は公表までお待ちください。" in page.locator("#case-closed").inner_text()
    assert page.get_by_role("link", name=re.compile("この箇所に意見を出す")).count() == 0
    assert_accessible(page)
    sign_in(page, make_staff(email="route@example.jp", role=Role.HANDLE))
    page.goto(f"/staff/consultations/{open_case.slug}/approval/route/")
    page.locator("#id_step-0-label").fill("係長")
    page.locator("#id_step-1-label").fill("課長")
    assert_accessible(page)
    page.get_by_role("button", name="経路を保存する").click()
    assert "係長" in page.locator(".approval-route").inner_text() and "課長" in page.locator(".approval-route").inner_text()
    assert_accessible(page)


def test_the_section_column_of_the_results_keeps_its_heading_on_one_line(page, departments):
    """The seed's long opinions squeezed 該当箇所 to one character a line; the heading stays on one
    line and the column keeps room for a heading such as 「重点方針と取組み」."""
    from hiroba.accounts import demo as accounts_demo
    from hiroba.consultations import demo as consultations_demo

    accounts_demo.load(lambda line: None)
    consultations_demo.load(lambda line: None)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"/consultations/{consultations_demo.SEED_SLUG}/results/")
    heading = page.locator(".results-table thead th", has_text="該当箇所")
    size = page.evaluate("(el) => parseFloat(getComputedStyle(el).fontSize)", heading.element_handle())
    box = heading.bounding_box()
    assert box["height"] < 2.5 * size + 16 and box["width"] >= 4 * size, box  # one line: 4 characters wide
    cell = page.locator(".results-table tbody td:nth-child(2)").first.bounding_box()
    assert cell["width"] >= 8 * size, cell
    assert_accessible(page)


def test_under_a_flood_the_browser_solves_the_proof_of_work_and_the_opinion_goes_in(page, open_case, settings):
    """大量送信対策 on: Chromium finds the number by itself (hiroba/pow.js) and the resident only presses 提出."""
    settings.HIROBA_POW_MAX_NUMBER = 20_000
    services.case_set_proof_of_work(actor="test", case=open_case, on=True)
    page.goto(f"/consultations/{open_case.slug}/submit/")
    page.get_by_label("氏名").fill("区民 花子")
    page.get_by_label("住所").fill("千代田区九段南1-2-1")
    page.get_by_label("区分").select_option(label="在住")
    page.locator("#id_text").fill("大量送信対策の下でも意見を出せること。")
    page.get_by_role("button", name="確認画面へ進む").click()
    assert "自動の確認" in page.locator("[data-pow-status]").inner_text()
    assert_accessible(page)
    page.get_by_role("button", name="この内容で提出する").click()
    assert page.locator("#receipt-number").inner_text() == f"{open_case.period_start.year}-DX-0001"
    assert Submission.objects.get().text == "大量送信対策の下でも意見を出せること。"
