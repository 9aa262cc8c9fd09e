"""A staff member signs in with password and TOTP in Chromium; axe checks the key pages."""

from __future__ import annotations

import pyotp
import pytest

from hiroba.core.models import AuditEntry
from tests.browser.conftest import assert_accessible
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def test_public_home_is_accessible(page):
    page.goto("/")
    assert page.locator("h1").inner_text().startswith("広場 hiroba")
    assert page.locator("html").get_attribute("lang") == "ja"
    assert_accessible(page)


def test_login_page_is_accessible_with_and_without_errors(page):
    page.goto("/accounts/login/")
    assert_accessible(page)
    page.get_by_label("メールアドレス").fill("nobody@example.jp")
    page.get_by_label("パスワード").fill("wrong-password-123")
    page.get_by_role("button", name="ログイン", exact=True).click()
    assert page.get_by_role("alert").is_visible()
    assert "入力内容を確認してください" in page.get_by_role("alert").inner_text()
    assert_accessible(page)


def test_staff_signs_in_with_totp_and_reaches_an_accessible_staff_home(page, make_staff):
    staff = make_staff(email="clerk@example.jp")
    page.goto("/staff/")
    assert "ログインが必要です" in page.locator("h1").inner_text()
    page.get_by_role("link", name="ログイン画面へ").click()
    page.get_by_label("メールアドレス").fill(staff.user.email)
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン", exact=True).click()
    page.wait_for_url("**/accounts/2fa/authenticate/**")
    assert_accessible(page)
    page.locator("input[name=code]").fill(pyotp.TOTP(staff.totp_secret).now())
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url("**/staff/")
    assert page.locator("h1").inner_text() == "職員ページ"
    assert "デジタル政策課" in page.content()
    assert_accessible(page)
    assert AuditEntry.objects.filter(action="auth.login", actor_id=staff.user.pk).exists()


def test_first_sign_in_shows_the_one_time_totp_enrolment(page, make_staff):
    staff = make_staff(email="new@example.jp", mfa=False)
    page.goto("/accounts/login/")
    page.get_by_label("メールアドレス").fill(staff.user.email)
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン", exact=True).click()
    page.wait_for_url("**/accounts/2fa/totp/activate/**")
    secret = page.locator("input#authenticator_secret, input[name=secret], code").first
    assert page.locator("img, svg").count() >= 1  # the QR code
    assert_accessible(page)
    text_secret = page.evaluate(
        "() => (document.querySelector('#authenticator_secret') || {}).value || ''"
    ) or secret.inner_text()
    page.locator("input[name=code]").fill(pyotp.TOTP(text_secret.strip()).now())
    page.locator("main form button[type=submit]").first.click()
    page.goto("/staff/")
    assert page.locator("h1").inner_text() == "職員ページ"


def test_english_is_available(page):
    page.goto("/")
    page.select_option("#language-select", "en")
    page.get_by_role("button", name="切替").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Skip to main content" in page.content()
