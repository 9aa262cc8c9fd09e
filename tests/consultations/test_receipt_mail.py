"""The 受付番号 is e-mailed through a real SMTP server (aiosmtpd on loopback), after the commit;
on an e-mail-confirmed case the opinion counts only once the link in that mail is opened."""

from __future__ import annotations

import email
import re
import socket
import uuid
from collections.abc import Iterator
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message

from hiroba.consultations import exports
from hiroba.consultations.models import Case, Submission
from tests.consultations.conftest import DURING

pytestmark = pytest.mark.django_db(transaction=True)


class Inbox(Message):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[email.message.EmailMessage] = []

    def handle_message(self, message) -> None:  # type: ignore[no-untyped-def]
        self.messages.append(email.message_from_bytes(message.as_bytes(), policy=default_policy))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(settings) -> Iterator[Inbox]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS = False
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    try:
        yield inbox
    finally:
        controller.stop()


def submit(client, case, **extra):
    data = {"name": "区民 花子", "address": "千代田区", "category": "resident", "email": "hanako@example.jp",
            "text": "意見です。", "idempotency_key": uuid.uuid4().hex, "step": "submit", **extra}
    return client.post(f"/consultations/{case.slug}/submit/", data)


def test_the_receipt_number_is_mailed_over_smtp(client, make_case, smtp, time_machine):
    time_machine.move_to(DURING)
    case = make_case()
    response = submit(client, case)
    assert response.status_code == 303
    assert len(smtp.messages) == 1
    mail = smtp.messages[0]
    assert mail["To"] == "hanako@example.jp"
    assert "2025-DX-0001" in mail["Subject"]
    assert "受付番号: 2025-DX-0001" in mail.get_content()


def test_an_email_confirmed_case_counts_the_opinion_only_after_the_link(client, make_case, smtp, time_machine):
    time_machine.move_to(DURING)
    case = make_case(identity_level="email")
    no_email = submit(client, case, email="")
    assert no_email.status_code == 400 and Submission.objects.count() == 0
    assert submit(client, case).status_code == 303
    submission = Submission.objects.get()
    assert submission.identity_status == Submission.IdentityStatus.PENDING
    assert Submission.objects.counted().count() == 0
    body = smtp.messages[0].get_content()
    link = re.search(r"https://testserver(/consultations/confirm/[^/\s]+/)", body).group(1)  # HIROBA_HTTPS is on
    assert client.get(link).status_code == 200  # a mail scanner's GET changes nothing
    assert Submission.objects.get().identity_status == Submission.IdentityStatus.PENDING
    assert client.post(link).status_code == 200
    assert Submission.objects.get().identity_status == Submission.IdentityStatus.CONFIRMED
    assert Submission.objects.counted().count() == 1
    assert client.post("/consultations/confirm/forged-token/").status_code == 404


def test_the_results_state_the_identity_level(make_case, submit_factory=None):
    case = make_case(identity_level="email")
    Case.objects.filter(pk=case.pk).update(state=Case.State.PUBLISHED)
    case.refresh_from_db()
    assert exports.build(case).identity_label == "メールアドレスの確認"


def test_the_receipt_mail_links_to_the_impersonation_report_page(client, make_case, smtp, time_machine, settings):
    """「次のページから申告してください。」 is followed by the page (issue 12.5), on the demo's plain HTTP."""
    from hiroba.core.models import Notification

    settings.HIROBA_BASE_URL, settings.HTTPS = "", False
    time_machine.move_to(DURING)
    case = make_case()
    assert submit(client, case).status_code == 303
    body = smtp.messages[0].get_content()
    assert "次のページから申告してください。\nhttp://testserver/consultations/dx-plan/report/?receipt=2025-DX-0001" in body
    assert Notification.objects.get().template == "consultations/mail/receipt"  # the one outbox
    page = client.get("/consultations/dx-plan/report/?receipt=2025-DX-0001")
    assert 'value="2025-DX-0001"' in page.content.decode()


def test_the_receipt_mail_links_follow_the_configured_address(client, make_case, smtp, time_machine, settings):
    settings.HIROBA_BASE_URL = "https://hiroba.example.lg.jp"
    time_machine.move_to(DURING)
    case = make_case(identity_level="email")
    assert submit(client, case).status_code == 303
    body = smtp.messages[0].get_content()
    assert re.search(r"^https://hiroba\.example\.lg\.jp/consultations/confirm/\S+$", body, re.M)
    assert "https://hiroba.example.lg.jp/consultations/dx-plan/report/?receipt=2025-DX-0001" in body


def test_a_mail_server_that_is_down_is_no_error_page_and_the_receipt_waits_in_the_outbox(
        client, make_case, settings, time_machine):
    from hiroba.core.models import Notification

    time_machine.move_to(DURING)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", free_port(), False  # nobody listens
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    case = make_case()
    assert submit(client, case).status_code == 303  # the opinion is received, not a 500
    note = Notification.objects.get()
    assert note.state == Notification.State.RETRY and note.recipient == "hanako@example.jp"
    assert note.subject == "【受付】" + case.title + "（受付番号 2025-DX-0001）"
    assert "受付番号: 2025-DX-0001" in note.body


def test_a_receipt_task_queued_by_an_older_release_still_reaches_the_resident(client, make_case, smtp, settings,
                                                                                time_machine):
    from hiroba.consultations import tasks

    time_machine.move_to(DURING)
    case = make_case()
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    assert submit(client, case).status_code == 303
    submission = Submission.objects.get()
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    smtp.messages.clear()
    tasks.send_receipt.call(submission.pk, "", "")
    [mail] = smtp.messages
    assert "2025-DX-0001" in mail["Subject"] and "受付番号: 2025-DX-0001" in mail.get_content()
