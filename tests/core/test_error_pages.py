"""hiroba's own Japanese error pages for what Django answers itself (issue 13.12), input that is
not UTF-8 (13.9), and the cookie and caching headers (13.15)."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def _post_raw(client: Client, path: str, body: bytes, content_type: str = "application/x-www-form-urlencoded"):
    return client.generic("POST", path, body, content_type=content_type)


def test_a_body_over_the_limit_gets_the_japanese_413_page(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
    response = _post_raw(client, "/accounts/login/", b"login=" + b"a" * (1024 * 1024 + 10))
    html = response.content.decode()
    assert response.status_code == 413 and "送信内容が大きすぎます" in html and "1MBまで" in html
    assert "Bad Request" not in html


def test_too_many_fields_get_the_japanese_400_page(client, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
    response = _post_raw(client, "/accounts/login/", "&".join(f"f{i}=x" for i in range(1001)).encode())
    html = response.content.decode()
    assert response.status_code == 400 and "送信された項目の数が多すぎます" in html and "Bad Request" not in html


def test_a_missing_csrf_token_gets_the_japanese_403_page_not_djangos():
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"login": "a@example.jp", "password": "x"})
    html = response.content.decode()
    assert response.status_code == 403 and "ページの有効期限が切れました" in html and "クッキー" in html
    assert "DEBUG" not in html and "CSRF verification failed" not in html


def test_the_english_pages_are_english(client, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = _post_raw(client, "/accounts/login/", "&".join(f"f{i}=x" for i in range(11)).encode())
    assert response.status_code == 400 and "Too many fields" in response.content.decode()


@pytest.mark.parametrize("body", [b"login=\xff\xfe&password=x", b"login=%FF%FE&password=x",
                                  "login=区民".encode("cp932") + b"&password=x"])
def test_a_form_that_is_not_utf8_is_refused(client, body):
    response = _post_raw(client, "/accounts/login/", body)
    html = response.content.decode()
    assert response.status_code == 400 and "UTF-8ではない文字" in html


def test_a_query_string_that_is_not_utf8_is_refused(client):
    assert client.get("/consultations/?q=%FF").status_code == 400
    assert client.get("/consultations/?q=%E5%8C%BA").status_code == 200  # 区, well-formed


def test_a_multipart_field_that_is_not_utf8_is_refused(client):
    boundary = "XyZ"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"login\"\r\n\r\n").encode() + b"\xff\xfe" + (
        f"\r\n--{boundary}--\r\n").encode()
    response = _post_raw(client, "/accounts/login/", body, content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 400 and "UTF-8ではない文字" in response.content.decode()


def test_the_language_cookie_is_secure_and_httponly(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    cookie = response.cookies["django_language"]
    assert cookie["secure"] and cookie["httponly"] and cookie["samesite"] == "Lax"


def test_staff_pages_are_not_stored(staff_client):
    response = staff_client.get("/staff/")
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    assert "no-store" not in staff_client.get("/").get("Cache-Control", "")
