"""The mailbox over IMAP (TLS, on a local server): read, then marked \\Seen after the commit; a
wrong password or a server that is down is a clear Japanese error that changes nothing."""

from __future__ import annotations

import socket

import pytest

from hiroba.consultations.intake import mailbox as intake_mailbox
from hiroba.consultations.intake.models import Entry
from hiroba.consultations.models import Channel, Submission
from tests.consultations.intake.conftest import jp_mail
from tests.consultations.intake.imap_server import IMAPServer, Message

pytestmark = pytest.mark.django_db


@pytest.fixture
def imap(tmp_path):
    server = IMAPServer(tmp_path)
    yield server
    server.close()


def test_mail_is_read_over_imaps_and_marked_seen_after_commit(case, imap):
    imap.messages = [Message(jp_mail()), Message(jp_mail("二通目です。", charset="shift_jis"))]
    source = intake_mailbox.IMAPSource(imap.url(), context=imap.client_context())
    result = intake_mailbox.read(case, source)
    source.close()
    assert (result.new, result.duplicate, len(result.held)) == (2, 0, 0)
    assert all(m.seen for m in imap.messages)
    assert set(Submission.objects.values_list("channel", flat=True)) == {Channel.EMAIL}
    assert "二通目です。" in Submission.objects.values_list("text", flat=True)
    imap.messages[0].seen = False  # the server forgot a flag: the Message-ID still dedupes
    source = intake_mailbox.IMAPSource(imap.url(), context=imap.client_context())
    again = intake_mailbox.read(case, source)
    source.close()
    assert (again.new, again.duplicate) == (0, 1) and Entry.objects.count() == 2


def test_a_wrong_password_is_a_clear_error(case, imap):
    imap.messages = [Message(jp_mail())]
    with pytest.raises(intake_mailbox.MailboxDown, match="ログインできません。ユーザー名とパスワードを確認してください"):
        intake_mailbox.IMAPSource(imap.url(password="wrong"), context=imap.client_context())
    assert not imap.messages[0].seen and not Entry.objects.exists()


def test_a_server_that_is_down_is_a_clear_error(case, settings):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.CONSULTATIONS_INTAKE_MAILBOXES = {case.slug: f"imaps://u:p@127.0.0.1:{port}/INBOX"}
    with pytest.raises(intake_mailbox.MailboxDown, match="メールサーバー（127.0.0.1）に接続できません"):
        intake_mailbox.read_case(case)


def test_a_password_imap_cannot_send_is_a_clear_error(case, imap):
    with pytest.raises(intake_mailbox.MailboxDown, match="半角の英数字と記号だけ"):
        intake_mailbox.IMAPSource(imap.url(password="パスワード"), context=imap.client_context())


def test_plain_imap_is_refused(case, settings):
    settings.CONSULTATIONS_INTAKE_MAILBOXES = {case.slug: "imap://u:p@127.0.0.1:143/INBOX"}
    with pytest.raises(intake_mailbox.MailboxDown, match="TLS"):
        intake_mailbox.read_case(case)
