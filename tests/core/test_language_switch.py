"""The header's language switch: a GET form to core:language, no CSRF token in the page."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse

from hiroba.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_it_keeps_the_choice_and_goes_back(client):
    response = client.get(reverse("core:language"), {"language": "en", "next": "/consultations/?q=区"})
    assert response.status_code == 302 and response["Location"] == "/consultations/?q=%E5%8C%BA"
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "en" and cookie["httponly"] and cookie["samesite"] == "Lax"
    assert "Skip to main content" in client.get("/").content.decode()


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/", "javascript:alert(1)", ""])
def test_it_never_sends_the_reader_to_another_site(client, next_url):
    response = client.get(reverse("core:language"), {"language": "en", "next": next_url})
    assert response.status_code == 302 and response["Location"] == "/"


def test_an_unknown_language_changes_nothing(client):
    response = client.get(reverse("core:language"), {"language": "xx", "next": "/"})
    assert response.status_code == 302 and settings.LANGUAGE_COOKIE_NAME not in response.cookies


def test_the_page_carries_no_csrf_token_for_an_anonymous_reader(client):
    response = client.get("/")
    assert b"csrfmiddlewaretoken" not in response.content and settings.CSRF_COOKIE_NAME not in response.cookies
    assert f'action="{reverse("core:language")}"'.encode() in response.content


def test_staff_switch_language_too_and_it_is_not_audited(staff_client):
    response = staff_client.get(reverse("core:language"), {"language": "en", "next": "/staff/"})
    assert response["Location"] == "/staff/"
    assert "Staff" in staff_client.get("/staff/").content.decode()
    assert not AuditEntry.objects.filter(action="http.write").exists()


def test_djangos_set_language_still_works(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302 and response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
