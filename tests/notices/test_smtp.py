"""The 「書面が届いています」 e-mail goes through a real SMTP server (aiosmtpd on loopback) after the
dispatch commits, carries no personal content, and its Message-ID is the one bounces refer to."""

from __future__ import annotations

import pytest

from hiroba.core.models import Notification
from hiroba.notices import delivery
from hiroba.notices.models import Status
from tests.consultations import test_receipt_mail

from .conftest import make_recipients, opt_in
from .test_core_path import send

pytestmark = pytest.mark.django_db(transaction=True)


smtp = test_receipt_mail.smtp  # the aiosmtpd server on loopback, the immediate task backend


def test_the_notice_mail_goes_over_smtp_without_personal_content(notice_type, clerk, approver, smtp):
    people = make_recipients(3)
    users = [opt_in(p, notice_type) for p in people[:2]]
    batch = send(notice_type, people, clerk, approver)
    assert sorted(m["To"] for m in smtp.messages) == sorted(u.email for u in users)
    for mail in smtp.messages:
        body = mail.get_content()
        assert "介護保険料のお知らせ" in mail["Subject"] and "/notices/" in body
        for person in people:
            assert person.name not in body and person.atena_number not in body
        assert "48000" not in body and "48001" not in body  # the amounts stay on hiroba
        note = Notification.objects.get(recipient=mail["To"])
        assert mail["Message-ID"] == note.message_id and note.state == Notification.State.SENT
    delivery.sync_mail_states()
    assert sorted(batch.notices.values_list("status", flat=True)) == [Status.PAPER, Status.SENT, Status.SENT]
