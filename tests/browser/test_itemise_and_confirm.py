"""Itemising by selecting a passage of the original (issue 12.8), and the confirmation step before
closing a case early (issue 12.9), in Chromium with axe."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from hiroba.accounts.models import Role
from hiroba.consultations import services
from hiroba.consultations.models import Case, Channel, Item
from tests.browser.conftest import assert_accessible
from tests.browser.test_consultations import open_case, sign_in  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db(transaction=True)
FIRST = "図書館の開館時間を延長してほしい。"
SECOND = "𠮷野家の前の歩道を広げてください。"  # 𠮷 is one character, two UTF-16 units
LETTER = f"{FIRST}\n{SECOND}\n以上です。"


@pytest.fixture
def letter(open_case):  # noqa: F811
    submission, _ = services.submission_receive(
        actor="test", case=Case.objects.get(pk=open_case.pk), idempotency_key="letter-1", channel=Channel.POST, text=LETTER,
        received_at=timezone.now(), postmark_date=timezone.localdate(), name="郵送 次郎")
    return submission


def test_a_clerk_cuts_items_by_selecting_passages_with_keyboard_and_mouse(page, open_case, letter,  # noqa: F811
                                                                          make_staff):
    sign_in(page, make_staff(email="clerk@example.jp", role=Role.HANDLE))
    page.goto(f"/staff/consultations/{open_case.slug}/submissions/{letter.receipt_number}/")
    original = page.get_by_label("原文（意見にする範囲をマウスまたはキーボード（Shift＋矢印キー）で選択します）")
    assert original.input_value() == LETTER
    assert_accessible(page)

    # keyboard: from the start, Shift+→ over the first sentence (typing changes nothing)
    original.focus()
    page.keyboard.type("改ざん")
    page.keyboard.press("Backspace")
    assert original.input_value() == LETTER
    for _ in LETTER.splitlines():
        page.keyboard.press("ArrowUp")
    page.keyboard.press("Home")
    for _ in FIRST:
        page.keyboard.press("Shift+ArrowRight")
    page.get_by_role("button", name="選択した範囲を意見にする").click()
    assert page.get_by_label("原文の開始位置（文字）").input_value() == "0"
    assert page.get_by_label("原文の終了位置（文字）").input_value() == str(len(FIRST))
    assert f"位置 0–{len(FIRST)}" in page.get_by_role("status").inner_text()
    assert_accessible(page)
    page.get_by_label("基本的な考え方").check()
    page.get_by_role("button", name="意見を作成する").click()
    first = Item.objects.get(number=1)
    assert first.text == FIRST and (first.span_start, first.span_end) == (0, len(FIRST))
    assert [s.heading for s in first.sections.all()] == ["基本的な考え方"]

    # mouse: drag across the second line (its first to its last character)
    page.get_by_role("link", name="No.1")  # the new item is listed
    original = page.locator("#itemise-original")
    start = len(FIRST) + 1
    box_text = original.input_value()
    assert box_text == LETTER
    original.evaluate("(el, r) => { el.focus(); el.setSelectionRange(r[0], r[1]); }",
                      [start, start + len(SECOND.encode("utf-16-le")) // 2])
    page.get_by_role("button", name="選択した範囲を意見にする").click()
    page.get_by_label("重点方針と取組み").check()
    page.get_by_role("button", name="意見を作成する").click()
    second = Item.objects.get(number=2)
    assert second.text == SECOND  # positions counted in characters, as the server counts them
    assert (second.span_start, second.span_end) == (start, start + len(SECOND))


def test_pressing_the_button_without_a_selection_says_what_to_do(page, open_case, letter, make_staff):  # noqa: F811
    sign_in(page, make_staff(email="clerk@example.jp", role=Role.HANDLE))
    page.goto(f"/staff/consultations/{open_case.slug}/submissions/{letter.receipt_number}/")
    page.get_by_role("button", name="選択した範囲を意見にする").click()
    assert page.get_by_role("status").inner_text() == "原文の範囲を選択してから押してください。"
    assert not Item.objects.exists()


def test_without_javascript_the_positions_are_typed(browser, live_server, open_case, letter, make_staff,  # noqa: F811
                                                    settings):
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    context = browser.new_context(locale="ja-JP", java_script_enabled=False, base_url=live_server.url)
    page = context.new_page()
    try:
        staff = make_staff(email="clerk@example.jp", role=Role.HANDLE)
        sign_in(page, staff)
        page.goto(f"/staff/consultations/{open_case.slug}/submissions/{letter.receipt_number}/")
        assert page.locator("#original-text").inner_text() == LETTER
        assert page.locator("#itemise-original").count() == 0
        page.get_by_label("原文の開始位置（文字）").fill("0")
        page.get_by_label("原文の終了位置（文字）").fill(str(len(FIRST)))
        page.get_by_role("button", name="意見を作成する").click()
        assert Item.objects.get().text == FIRST
    finally:
        context.close()


def test_closing_early_asks_for_confirmation_and_a_reason(page, open_case, make_staff):  # noqa: F811
    sign_in(page, make_staff(email="clerk@example.jp", role=Role.HANDLE))
    page.goto(f"/staff/consultations/{open_case.slug}/")
    page.get_by_role("button", name="募集を締め切る").click()
    assert page.locator("h1").inner_text() == "確認：募集を締め切る"
    assert "理由を入力してください" in page.locator(".notice--warning").inner_text()
    assert_accessible(page)
    page.get_by_role("button", name="募集を締め切る").click()  # no reason given
    assert "募集期間の最終日より前に締め切るには、理由を入力してください。" in page.get_by_role("alert").inner_text()
    assert Case.objects.get(pk=open_case.pk).state == Case.State.OPEN
    assert_accessible(page)
    page.get_by_label("受付を早く終了する理由").fill("案を大きく見直すため")
    page.get_by_role("button", name="募集を締め切る").click()
    page.wait_for_url(f"**/staff/consultations/{open_case.slug}/")
    case = Case.objects.get(pk=open_case.pk)
    assert case.state == Case.State.TALLYING and case.close_reason == "案を大きく見直すため"
    assert case.closed_on == timezone.localdate() < case.period_end
    page.goto(f"/consultations/{open_case.slug}/")
    assert "案を大きく見直すため" in page.locator("main").inner_text()


def test_cancelling_the_confirmation_changes_nothing(page, open_case, make_staff):  # noqa: F811
    sign_in(page, make_staff(email="clerk@example.jp", role=Role.HANDLE))
    page.goto(f"/staff/consultations/{open_case.slug}/")
    page.get_by_role("button", name="募集を締め切る").click()
    page.get_by_role("link", name="やめて戻る").click()
    page.wait_for_url(f"**/staff/consultations/{open_case.slug}/")
    assert Case.objects.get(pk=open_case.pk).state == Case.State.OPEN
    assert timezone.localdate() + timedelta(days=1) <= open_case.period_end


@pytest.mark.parametrize("language", ["ja", "en"])
def test_signed_in_the_language_switcher_stays_on_the_header_s_first_row(page, open_case, make_staff,  # noqa: F811
                                                                         language):
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, make_staff(email="clerk@example.jp", role=Role.HANDLE))
    if language == "en":
        page.select_option("#language-select", "en")
        page.get_by_role("button", name="切替").click()
    page.goto("/staff/")
    brand = page.locator(".site-header__brand").bounding_box()
    switcher = page.locator(".language-switcher").bounding_box()
    assert switcher["y"] < brand["y"] + brand["height"]  # beside the name, not on a row of its own
    assert page.get_by_role("button", name="ログアウト" if language == "ja" else "Sign out").is_visible()
    assert_accessible(page)
