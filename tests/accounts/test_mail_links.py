"""Links in allauth's mails follow the configured scheme and host, and the mails are hiroba's own
Japanese (issue 12.5): the demo serves plain HTTP, so an https:// link there fails."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from django.urls import reverse
from django.utils import translation

from hiroba.accounts.models import User

pytestmark = pytest.mark.django_db
PASSWORD = "Sakura-Namiki-2025"


def _protocol(env: dict[str, str]) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HIROBA_")}
    clean.update({"HIROBA_SECRET_KEY": "x" * 60, **env})
    out = subprocess.run([sys.executable, "-c", "import hiroba.settings as s; print(s.ACCOUNT_DEFAULT_HTTP_PROTOCOL)"],
                         env=clean, capture_output=True, text=True, timeout=60, check=True)
    return out.stdout.strip()


def test_the_link_scheme_follows_hiroba_https(tmp_path):
    assert _protocol({"HIROBA_HTTPS": "0", "HIROBA_DATA_DIR": str(tmp_path)}) == "http"  # the demo
    assert _protocol({"HIROBA_HTTPS": "1", "HIROBA_DATA_DIR": str(tmp_path)}) == "https"
    assert _protocol({"HIROBA_HTTPS": "1", "HIROBA_BASE_URL": "http://hiroba.test:8000",
                      "HIROBA_DATA_DIR": str(tmp_path)}) == "http"


def _sign_up(client, settings, django_capture_on_commit_callbacks, mailoutbox, **headers):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account_signup"), {"email": "kumin@example.jp", "password1": PASSWORD,
                                                           "password2": PASSWORD}, **headers)
    assert response.status_code == 302
    [mail] = mailoutbox
    return mail


def test_the_confirmation_link_uses_the_configured_address(client, settings, django_capture_on_commit_callbacks,
                                                           mailoutbox):
    settings.HIROBA_BASE_URL = "http://hiroba.demo.test:8000"
    settings.ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http"
    mail = _sign_up(client, settings, django_capture_on_commit_callbacks, mailoutbox)
    link = re.search(r"\S+/accounts/confirm-email/\S+", mail.body).group(0)
    assert link.startswith("http://hiroba.demo.test:8000/accounts/confirm-email/")
    assert client.post(link.removeprefix("http://hiroba.demo.test:8000")).status_code == 302
    assert User.objects.get(email="kumin@example.jp").emailaddress_set.get().verified


def test_without_a_base_url_the_link_has_the_scheme_of_hiroba_https(client, settings,
                                                                    django_capture_on_commit_callbacks, mailoutbox):
    settings.HIROBA_BASE_URL, settings.HTTPS, settings.ACCOUNT_DEFAULT_HTTP_PROTOCOL = "", False, "http"
    mail = _sign_up(client, settings, django_capture_on_commit_callbacks, mailoutbox)
    assert "http://testserver/accounts/confirm-email/" in mail.body


def test_the_confirmation_mail_is_hiroba_s_own_japanese(client, settings, django_capture_on_commit_callbacks,
                                                        mailoutbox):
    mail = _sign_up(client, settings, django_capture_on_commit_callbacks, mailoutbox)
    assert "メールアドレスの確認のお願い" in mail.subject
    assert "次のリンクを開いて、メールアドレスの確認を完了してください。" in mail.body
    assert "kumin@example.jp" in mail.body and settings.HIROBA_MUNICIPALITY in mail.body
    assert "Hello from" not in mail.body and "example.com" not in mail.body
    assert "testserver からのご挨拶" not in mail.body  # allauth's stock Japanese greeting


def test_the_confirmation_mail_in_english(client, settings, django_capture_on_commit_callbacks, mailoutbox):
    mail = _sign_up(client, settings, django_capture_on_commit_callbacks, mailoutbox, HTTP_ACCEPT_LANGUAGE="en")
    assert "Please confirm your e-mail address" in mail.subject
    assert "open the link below to finish confirming your e-mail address" in mail.body
    assert not re.search(r"[\u3040-\u30ff]", mail.body.replace(settings.HIROBA_SITE_NAME, "")
                         .replace(settings.HIROBA_MUNICIPALITY, ""))


def test_the_password_reset_mail_is_japanese_with_the_configured_link(client, settings,
                                                                     django_capture_on_commit_callbacks, mailoutbox):
    User.objects.create_user(email="kumin@example.jp", password=PASSWORD)
    settings.HIROBA_BASE_URL = "http://hiroba.demo.test:8000"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    with translation.override("ja"), django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account_reset_password"), {"email": "kumin@example.jp"})
    assert response.status_code == 302
    [mail] = mailoutbox
    assert "パスワードの再設定" in mail.subject
    assert re.search(r"http://hiroba\.demo\.test:8000/accounts/password/reset/key/\S+", mail.body)
