"""Sign-up: honeypot (13.8); addresses longer than the column on every account form (13.10)."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse

from hiroba.accounts.models import User

pytestmark = pytest.mark.django_db
PASSWORD = "Sakura-Namiki-2025"
LONG = "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 63 + ".jp"  # 258 characters, well-formed


def test_sign_up_has_the_honeypot_and_a_bot_filling_it_gets_no_account(client, mailoutbox):
    page = client.get(reverse("account_signup")).content.decode()
    assert 'class="hp-field"' in page and 'name="form_started"' in page
    response = client.post(reverse("account_signup"), {"email": "bot@example.jp", "password1": PASSWORD,
                                                       "password2": PASSWORD, "website": "https://spam.example"})
    assert response.status_code == 200 and "この欄は空のままにしてください" in response.content.decode()
    assert not User.objects.exists() and mailoutbox == []


def test_a_long_address_is_refused_at_sign_up_not_a_500(client):
    response = client.post(reverse("account_signup"), {"email": LONG, "password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 200 and "254文字以内" in response.content.decode()
    assert not User.objects.exists()


def test_a_long_address_is_refused_when_adding_one(client, resident):
    client.force_login(resident)
    response = client.post(reverse("account_email"), {"email": LONG, "action_add": ""})
    assert "254文字以内" in response.content.decode()
    assert not EmailAddress.objects.filter(email=LONG).exists()
