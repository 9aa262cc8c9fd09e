"""Sign-up with the mail server down answers normally; the confirmation mail is sent by the
background worker after the commit, over real SMTP (aiosmtpd on loopback) — issue 13.11."""

from __future__ import annotations

import socket

import pytest
from aiosmtpd.controller import Controller
from django.core.management import call_command
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from hiroba.accounts.models import User
from hiroba.core.models import Notification
from tests.consultations.test_receipt_mail import Inbox, free_port

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "Sakura-Namiki-2025"


def _closed_port() -> int:
    port = free_port()
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0
    return port


def test_sign_up_with_the_mail_server_down_is_not_an_error_and_the_worker_sends_the_mail_later(client, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", _closed_port(), False
    response = client.post(reverse("account_signup"), {"email": "kumin@example.jp", "password1": PASSWORD,
                                                       "password2": PASSWORD})
    assert response.status_code == 302  # to 「確認メールを送りました」, not a 500
    assert User.objects.filter(email="kumin@example.jp").exists()
    queued = DBTaskResult.objects.get()
    assert queued.task_path == "hiroba.core.notify.deliver" and queued.status == "READY"
    assert Notification.objects.get().state == "queued"

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        settings.EMAIL_PORT = controller.port
        call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    finally:
        controller.stop()
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"
    assert Notification.objects.get().state == "sent"
    [mail] = inbox.messages
    assert mail["To"] == "kumin@example.jp" and "/accounts/confirm-email/" in mail.get_content()


def test_a_failed_send_is_left_for_staff_to_see_and_nothing_is_half_made(client, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", _closed_port(), False
    assert client.post(reverse("account_signup"), {"email": "kumin@example.jp", "password1": PASSWORD,
                                                   "password2": PASSWORD}).status_code == 302
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    # the attempt failed: the message is kept and will be tried again (not lost, not a 500)
    note = Notification.objects.get()
    assert note.state == "retry" and note.attempts == 1 and "ConnectionRefused" in note.last_error
    assert note.recipient == "kumin@example.jp" and "/accounts/confirm-email/" in note.body
    user = User.objects.get(email="kumin@example.jp")
    assert not user.emailaddress_set.get().verified  # the account waits for its confirmation, as designed
