"""Residents register themselves and verify their e-mail; they never become staff."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from hiroba.accounts.models import User

pytestmark = pytest.mark.django_db


def test_a_resident_signs_up_and_must_verify_the_email(client, mailoutbox, settings,
                                                       django_capture_on_commit_callbacks):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}  # mail via the worker
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account_signup"), {
            "email": "kumin@example.jp", "password1": "Sakura-Namiki-2025", "password2": "Sakura-Namiki-2025",
        })
    assert response.status_code == 302
    user = User.objects.get(email="kumin@example.jp")
    assert user.kind == User.Kind.RESIDENT and not user.is_staff
    assert len(mailoutbox) == 1
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+", mailoutbox[0].body).group(0)
    path = link.split("testserver", 1)[-1]
    assert client.post(path).status_code == 302
    assert user.emailaddress_set.get().verified


@pytest.mark.parametrize(("password", "message"), [
    ("short-Pw1", "短すぎ"),
    ("password1234", "よく使われる"),
    ("kumin-example-jp", "似すぎ"),
    ("123456789012345", "数字だけ"),
])
def test_weak_passwords_are_refused_in_japanese(client, password, message):
    response = client.post(reverse("account_signup"), {
        "email": "kumin@example.jp", "password1": password, "password2": password,
    })
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not User.objects.exists()
