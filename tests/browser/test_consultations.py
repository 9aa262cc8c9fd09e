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
        eligibility=["在住", "在勤", "在学"],
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
    assert "商店街のPR" in page.locator("#original-text").inner_text()
    page.get_by_label("意見内容（抜き書き・書き起こし）").fill("商店街のPRをデジタルで定期的に行ってほしい。")
    page.get_by_label("重点方針と取組み").check()
    page.get_by_role("button", name="意見を作成する").click()
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
    page.get_by_label("承認").check()
    page.get_by_role("button", name="決裁する").click()
    assert "承認済み" in page.content()
    page.goto(f"/staff/consultations/{open_case.slug}/publish/")
    page.get_by_role("button", name="結果を公表する").click()
    assert "公表済" in page.content()
    # --- the published results ---
    page.goto(f"/consultations/{open_case.slug}/results/")
    assert "提出者数" in page.content() and "個別事業に関わる提案内容" in page.content()
    assert page.locator("svg.chart").count() == 2
    assert_accessible(page)
