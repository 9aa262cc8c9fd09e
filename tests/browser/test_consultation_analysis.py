"""The opinion analysis in Chromium: a clerk runs it, sees the form-letter campaign, answers it at
once as one published row, sees a past answer suggested on an item, and the published page says
「同一の意見 n 件」. axe checks the analysis screens."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from hiroba.accounts.models import Role
from hiroba.consultations import services
from hiroba.consultations.models import AnalysisRun, Case, Channel
from tests.browser.conftest import assert_accessible
from tests.browser.test_consultations import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

LETTER = (
    "区役所の窓口を縮小する計画に反対します。高齢者はオンライン手続きに慣れておらず、対面の窓口が"
    "必要です。窓口の職員を減らさないでください。"
)


def _case(departments, slug, texts, *, answer_text=""):
    today = timezone.localdate()
    case = services.case_create(
        actor="test",
        slug=slug,
        title=f"{slug} の案",
        department=departments["digital"],
        period_start=today - timedelta(days=3),
        period_end=today + timedelta(days=30),
        channels=[Channel.WEB],
        receipt_code="DX",
    )
    services.section_add(actor="test", case=case, number="1", heading="全体", body="全体の本文です。")
    case = services.case_transition(actor="test", case=case, to=Case.State.OPEN)
    subs = [
        services.submission_receive(
            actor="resident", case=case, idempotency_key=f"{slug}-{n}", channel=Channel.WEB, text=t, name=f"区民{n}"
        )[0]
        for n, t in enumerate(texts)
    ]
    Case.objects.filter(pk=case.pk).update(state=Case.State.ANSWERING)
    case.refresh_from_db()
    items = [services.item_create(actor="test", submission=s, span=(0, len(s.text))) for s in subs]
    if answer_text:
        services.answer_write(actor="test", items=items, text=answer_text)
    return case


def test_a_clerk_answers_a_campaign_at_once_and_it_is_published_as_one_row(page, departments, make_staff, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    past = _case(
        departments,
        "past-plan",
        ["窓口を縮小しないでください。高齢者には対面の窓口が必要です。"],
        answer_text="対面の窓口は今後も維持します。",
    )
    Case.objects.filter(pk=past.pk).update(state=Case.State.PUBLISHED)
    case = _case(
        departments,
        "dx-now",
        [LETTER, LETTER, LETTER + "よろしくお願いします。", "図書館の開館時間を夜まで延長してほしいです。",
         "対面の窓口をなくさないでください。高齢者には窓口が必要です。"],
    )
    clerk = make_staff(email="analyst@example.jp", role=Role.HANDLE, mfa=True)
    sign_in(page, clerk)

    page.goto(f"/staff/consultations/{case.slug}/")
    page.get_by_role("link", name="意見の分析").click()
    assert "この案件はまだ分析していません。" in page.locator("main").inner_text()
    assert_accessible(page)
    page.get_by_role("button", name="分析を実行").click()
    page.wait_for_selector("text=最新の結果は")
    assert_accessible(page)
    campaigns = page.get_by_role("table", name="同じ文面のまとまり 1 件（件数の多い順）")
    assert "3件" in campaigns.inner_text() and "No.1" in campaigns.inner_text()
    campaigns.get_by_role("link", name="c1").click()
    assert page.get_by_role("heading", name="共通する文").is_visible()
    assert_accessible(page)
    # the best past answer is in the field; the clerk leaves it, publishes the three as one row
    assert page.get_by_label("区の考え方").input_value() == "対面の窓口は今後も維持します。"
    page.get_by_label("一つの行で公表する").check()
    page.get_by_role("button", name="選んだ意見に回答を保存").click()
    page.wait_for_selector("text=3件の意見に同じ区の考え方を保存しました。")
    assert page.get_by_text("No.1 の行で公表").count() == 2

    # item 4 (the library) has nothing in common with the past answer: nothing is suggested, and
    # the page says why (before the threshold it was offered with a score of 0.000)
    page.goto(f"/staff/consultations/{case.slug}/items/4/")
    findings = page.locator("#analysis-findings").inner_text()
    assert "過去の回答からの候補はありません。過去の回答と共通する語がありません。" in findings
    assert page.get_by_role("button", name="候補1を回答欄に入れる").count() == 0
    # item 5 is not in the campaign: a suggestion goes into its answer field at the click of a button
    page.goto(f"/staff/consultations/{case.slug}/items/5/")
    findings = page.locator("#analysis-findings")
    assert "過去の回答からの候補" in findings.inner_text() and "past-plan#1" in findings.inner_text()
    assert_accessible(page)
    page.get_by_role("button", name="候補1を回答欄に入れる").click()
    assert page.get_by_role("textbox", name="区の考え方").input_value() == "対面の窓口は今後も維持します。"
    page.get_by_role("button", name="回答を保存").click()
    page.wait_for_selector("text=区の考え方を保存しました。")

    # the library opinion is answered by hand (nothing was suggested for it)
    services.answer_write(actor="test", items=[case.items.get(number=4)], text="図書館の開館時間は担当部署と検討します。")
    # published through approval: the results page serves the stored, approved version
    services.approval_decide(actor="test", round_=services.approval_request(actor="test", case=case), approve=True)
    services.case_publish(actor="test", case=case)
    page.goto(f"/consultations/{case.slug}/results/")
    body = page.locator("main").inner_text()
    assert "同一の意見 3 件" in body
    assert "5件（同一の意見をまとめて 3 行で掲載）" in body
    assert_accessible(page)


def test_the_progress_is_followed_by_script_and_by_the_refresh_link(
    page, browser, live_server, departments, make_staff, settings
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}  # no worker
    case = _case(departments, "dx-wait", [LETTER, "図書館の開館時間を夜まで延長してほしいです。"])
    clerk = make_staff(email="analyst@example.jp", role=Role.HANDLE, mfa=True)
    sign_in(page, clerk)
    page.goto(f"/staff/consultations/{case.slug}/analysis/")
    page.get_by_role("button", name="分析を実行").click()
    assert "待機中" in page.locator("[data-progress-text]").inner_text()
    assert page.get_by_label("分析の進み具合").get_attribute("value") == "0"
    assert_accessible(page)
    # the worker picks it up: the script updates the bar and the live region in place
    run = AnalysisRun.objects.get(case=case)
    AnalysisRun.objects.filter(pk=run.pk).update(state="running", stage="pii", done=1, total=2)
    expect(page.locator("[data-progress-text]")).to_have_text("実行中：個人情報の検出（50%）")
    assert page.get_by_label("分析の進み具合").get_attribute("value") == "50"
    # without script, the link shows the same
    plain = browser.new_context(locale="ja-JP", base_url=live_server.url, java_script_enabled=False)
    plain.add_cookies(page.context.cookies())
    other = plain.new_page()
    other.goto(f"/staff/consultations/{case.slug}/analysis/")
    AnalysisRun.objects.filter(pk=run.pk).update(done=2, total=2, stage="signals")
    other.get_by_role("link", name="表示を更新する").click()
    assert other.locator("[data-progress-text]").inner_text() == "実行中：提出の傾向の確認（100%）"
    plain.close()
    # once the run is over, the script reloads the page
    AnalysisRun.objects.filter(pk=run.pk).update(state="failed", error="テストで中断")
    page.wait_for_selector("text=エラーの内容：テストで中断")
    assert page.get_by_role("button", name="分析を実行").is_visible()
