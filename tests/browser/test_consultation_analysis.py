"""The opinion analysis in Chromium: a clerk runs it, sees the form-letter campaign, answers it at
once as one published row, sees a past answer suggested on an item, and the published page says
「同一の意見 n 件」. axe checks the analysis screens."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from hiroba.accounts.models import Role
from hiroba.consultations import services
from hiroba.consultations.models import Case, Channel
from tests.browser.conftest import assert_accessible
from tests.browser.test_consultations import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

LETTER = ("区役所の窓口を縮小する計画に反対します。高齢者はオンライン手続きに慣れておらず、対面の窓口が"
          "必要です。窓口の職員を減らさないでください。")


def _case(departments, slug, texts, *, answer_text=""):
    today = timezone.localdate()
    case = services.case_create(
        actor="test", slug=slug, title=f"{slug} の案", department=departments["digital"],
        period_start=today - timedelta(days=3), period_end=today + timedelta(days=30),
        channels=[Channel.WEB], receipt_code="DX",
    )
    services.section_add(actor="test", case=case, number="1", heading="全体", body="全体の本文です。")
    case = services.case_transition(actor="test", case=case, to=Case.State.OPEN)
    subs = [services.submission_receive(actor="resident", case=case, idempotency_key=f"{slug}-{n}",
                                        channel=Channel.WEB, text=t, name=f"区民{n}")[0]
            for n, t in enumerate(texts)]
    Case.objects.filter(pk=case.pk).update(state=Case.State.ANSWERING)
    case.refresh_from_db()
    items = [services.item_create(actor="test", submission=s, span=(0, len(s.text))) for s in subs]
    if answer_text:
        services.answer_write(actor="test", items=items, text=answer_text)
    return case


def test_a_clerk_answers_a_campaign_at_once_and_it_is_published_as_one_row(page, departments, make_staff,
                                                                          settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    past = _case(departments, "past-plan", ["窓口を縮小しないでください。高齢者には対面の窓口が必要です。"],
                 answer_text="対面の窓口は今後も維持します。")
    Case.objects.filter(pk=past.pk).update(state=Case.State.PUBLISHED)
    case = _case(departments, "dx-now", [LETTER, LETTER, LETTER + "よろしくお願いします。",
                                         "図書館の開館時間を夜まで延長してほしいです。"])
    clerk = make_staff(email="analyst@example.jp", role=Role.HANDLE, mfa=True)
    sign_in(page, clerk)

    page.goto(f"/staff/consultations/{case.slug}/")
    page.get_by_role("link", name="意見の分析").click()
    page.get_by_role("button", name="分析を実行").click()
    page.wait_for_selector("text=最新の結果")
    assert_accessible(page)
    campaigns = page.get_by_role("table", name="同文のまとまり 1 件（件数の多い順）")
    assert "3件" in campaigns.inner_text()
    campaigns.get_by_role("link", name="c1").click()
    assert "共通する文" in page.content()
    assert_accessible(page)
    # the past answer is offered; the clerk keeps it, publishes the three as one row
    assert page.locator("#answer-text").input_value() == "対面の窓口は今後も維持します。"
    page.get_by_label("一つの行で公表する", exact=False).check()
    page.get_by_role("button", name="選んだ意見に回答を保存").click()
    page.wait_for_selector("text=3件の意見に同じ区の考え方を保存しました。")

    page.goto(f"/staff/consultations/{case.slug}/items/4/")
    assert "過去の回答からの候補" in page.content()
    page.get_by_role("button", name="この候補を回答欄に入れる（候補1）").click()
    assert page.get_by_role("textbox", name="区の考え方").input_value() == "対面の窓口は今後も維持します。"
    page.get_by_role("button", name="回答を保存").click()

    Case.objects.filter(pk=case.pk).update(state=Case.State.PUBLISHED)
    page.goto(f"/consultations/{case.slug}/results/")
    body = page.locator("main").inner_text()
    assert "同一の意見 3 件" in body
    assert "意見件数" in body and "同一の意見をまとめて 2 行で掲載" in body
