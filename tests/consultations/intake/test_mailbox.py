"""The consultation mailbox: Japanese mail in every charset a resident's mailer uses becomes a
submission on the channel 電子メール, with its .eml kept; reading twice adds nothing; what cannot
be taken is held with a Japanese reason, never dropped."""

from __future__ import annotations

import hashlib
import io
import mailbox
import zipfile
from datetime import datetime

import pytest
from django.core.management import call_command

from hiroba.consultations.intake import mailbox as intake_mailbox
from hiroba.consultations.intake.models import Entry, Original, State
from hiroba.consultations.models import Channel, Submission
from hiroba.core import audit
from hiroba.core.models import AuditEntry, Notification
from tests.consultations.conftest import JST
from tests.consultations.intake.conftest import PDF, jp_mail

pytestmark = pytest.mark.django_db


def run(case, path) -> str:
    out = io.StringIO()
    call_command("consultation", "mailbox", case.slug, "--maildir", str(path), stdout=out)
    return out.getvalue()


@pytest.mark.parametrize("charset", ["iso-2022-jp", "shift_jis", "utf-8"])
def test_a_japanese_mail_becomes_a_submission_with_its_eml(case, maildir, charset):
    text = "DX戦略の素案について、高齢者向けの窓口支援を拡充してください。①窓口の増設"
    if charset != "shift_jis":
        text = text.replace("①窓口の増設", "窓口の増設")
    raw = jp_mail(text, charset="cp932" if charset == "shift_jis" else charset,
                  attachments=[("意見書.pdf", PDF, "application/pdf")])
    if charset == "shift_jis":  # Windows mailers write cp932 and label it Shift_JIS
        raw = raw.replace(b'charset="cp932"', b'charset="shift_jis"')
    assert run(case, maildir(raw)).splitlines() == ["new 1, duplicate 0, held 0"]
    submission = Submission.objects.get()
    assert submission.channel == Channel.EMAIL
    assert submission.text == text
    assert submission.receipt_number == "2025-DX-0001"
    assert submission.email == "hanako@example.ne.jp" and submission.name == "山田 花子"
    assert submission.received_at == datetime(2025, 1, 20, 9, 30, tzinfo=JST)
    entry = Entry.objects.get()
    assert entry.state == State.AUTO and entry.submission == submission and entry.subject == "DX戦略（素案）への意見"
    eml = entry.originals.get(kind=Original.Kind.MESSAGE)
    assert eml.file.read() == raw and eml.sha256 == hashlib.sha256(raw).hexdigest()
    attachment = entry.originals.get(kind=Original.Kind.ATTACHMENT)
    assert attachment.name == "意見書.pdf" and attachment.file.read() == PDF
    audit.chain_pending()
    assert AuditEntry.objects.filter(action="consultations.submission_receive").count() == 1
    assert AuditEntry.objects.filter(action="consultations_intake.entry_receive").count() == 1


def test_reading_the_mailbox_twice_adds_nothing(case, maildir):
    path = maildir(jp_mail(), jp_mail("二通目の意見です。", charset="utf-8"))
    assert run(case, path).splitlines() == ["new 2, duplicate 0, held 0"]
    assert run(case, path).splitlines() == ["new 0, duplicate 0, held 0"]  # marked read: not even looked at
    box = mailbox.Maildir(str(path), create=False)
    assert all("S" in box.get_message(k).get_flags() and box.get_message(k).get_subdir() == "cur" for k in box.keys())
    assert Submission.objects.count() == 2
    # the same messages delivered again (a retrying MTA, a restored backup): duplicates by Message-ID
    for key in box.keys():
        msg = box.get_message(key)
        msg.set_flags("")
        msg.set_subdir("new")
        box[key] = msg
    assert run(case, path).splitlines() == ["new 0, duplicate 2, held 0"]
    assert Submission.objects.count() == 2 and Entry.objects.count() == 2


def test_the_sender_gets_the_receipt_number_but_robots_get_nothing(case, maildir):
    run(case, maildir(jp_mail(), jp_mail(sender="noreply@shop.example.com", message_id="<n1@shop>")))
    mails = list(Notification.objects.all())
    assert [m.recipient for m in mails] == ["hanako@example.ne.jp"]
    assert "2025-DX-0001" in mails[0].subject and "2025-DX-0001" in mails[0].body
    # noreply@ is a robot's address: the opinion is taken, nobody is answered
    assert Submission.objects.count() == 2


def test_automatic_replies_are_rate_limited_per_sender(case, maildir, settings):
    settings.CONSULTATIONS_INTAKE_AUTOREPLY_PER_DAY = 2
    run(case, maildir(*[jp_mail(f"意見{i}です。", charset="utf-8") for i in range(4)]))
    assert Submission.objects.count() == 4
    assert Notification.objects.count() == 2


AUTOMATIC = {
    "auto-submitted": {"headers": {"Auto-Submitted": "auto-replied"}},
    "mailing list": {"headers": {"List-Id": "<news.example.jp>", "Precedence": "list"}},
    "mailer-daemon": {"sender": "MAILER-DAEMON@mx.example.jp"},
}


@pytest.mark.parametrize("kind", AUTOMATIC)
def test_automatic_mail_is_held_not_made_a_submission(case, maildir, kind):
    out = run(case, maildir(jp_mail(**AUTOMATIC[kind]))).splitlines()
    assert out[0] == "new 0, duplicate 0, held 1"
    assert "提出として扱わず保留しました" in out[1]
    entry = Entry.objects.get()
    assert entry.state == State.REVIEW and entry.hold_code == "automatic" and entry.submission is None
    assert not Submission.objects.exists() and not Notification.objects.exists()
    assert entry.originals.filter(kind=Original.Kind.MESSAGE).exists()


def test_a_delivery_report_is_held(case, maildir):
    raw = (b"From: MAILER-DAEMON@mx.example.jp\r\nTo: dx-comment@example.jp\r\nSubject: Undelivered\r\n"
           b"Message-ID: <dsn1@mx>\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n"
           b"--b\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n--b--\r\n")
    assert run(case, maildir(raw)).splitlines()[0] == "new 0, duplicate 0, held 1"
    assert Entry.objects.get().hold_code == "automatic"


def test_mail_after_the_period_is_held_for_a_staff_decision(case, maildir):
    late = datetime(2025, 2, 11, 0, 5, tzinfo=JST)
    out = run(case, maildir(jp_mail(at=late))).splitlines()
    assert out[0] == "new 0, duplicate 0, held 1"
    assert "期間外" in out[1] and "令和7年2月11日" in out[1]
    assert Entry.objects.get().hold_code == "period" and not Submission.objects.exists()


def _zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "0" * (150 * 1024 * 1024))
    return out.getvalue()


def _macro_docx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/vbaProject.bin", b"\x00" * 100)
    return out.getvalue()


BAD = {
    "no text, no attachment": (dict(text=""), "empty", "本文も添付ファイルもない"),
    "30 MB attachment": (dict(attachments=[("scan.pdf", b"%PDF" + b"0" * (30 * 1024 * 1024), "application/pdf")]),
                         "too_large", "大きすぎます"),
    "executable": (dict(attachments=[("請求書.exe", b"MZ\x90\x00" + b"\x00" * 100, "application/octet-stream")]),
                   "executable", "実行できるプログラム"),
    "macro-enabled": (dict(attachments=[("意見.docm", _macro_docx(), "application/octet-stream")]), "macro", "マクロ"),
    "macro inside docx": (dict(attachments=[("意見.docx", _macro_docx(), "application/octet-stream")]), "macro", "マクロ"),
    "zip bomb": (dict(attachments=[("意見.docx", _zip_bomb(), "application/octet-stream")]), "zip_bomb", "極端に大きく"),
}


@pytest.mark.parametrize("name", BAD)
def test_bad_mail_is_held_with_a_japanese_reason(case, maildir, name):
    kwargs, code, words = BAD[name]
    out = run(case, maildir(jp_mail(**kwargs), jp_mail("次のメールは普通の意見です。"))).splitlines()
    assert out[0] == "new 1, duplicate 0, held 1"  # the worker goes on with the next message
    assert words in out[1]
    held = Entry.objects.get(state=State.REVIEW)
    assert held.hold_code == code and words in held.hold_reason and held.submission is None
    assert held.originals.filter(kind=Original.Kind.MESSAGE).exists()  # never dropped
    assert Submission.objects.count() == 1


def test_malformed_mime_and_an_unknown_charset_are_held(case, maildir):
    broken = (b"From: a@example.jp\r\nTo: dx-comment@example.jp\r\nMessage-ID: <b1@x>\r\nMIME-Version: 1.0\r\n"
              b"Content-Type: multipart/mixed; boundary=\"zzz\"\r\n\r\nno boundary ever starts\r\n")
    unknown = (b"From: b@example.jp\r\nTo: dx-comment@example.jp\r\nMessage-ID: <u1@x>\r\nMIME-Version: 1.0\r\n"
               b"Content-Type: text/plain; charset=x-klingon\r\n\r\n\xa4\xa2\xa4\xa4\r\n")
    out = run(case, maildir(broken, unknown)).splitlines()
    assert out[0] == "new 0, duplicate 0, held 2"
    reasons = {e.message_id: (e.hold_code, e.hold_reason) for e in Entry.objects.all()}
    assert reasons["b1@x"][0] == "malformed" and "形式（MIME）が壊れている" in reasons["b1@x"][1]
    assert reasons["u1@x"][0] == "charset" and "x-klingon" in reasons["u1@x"][1]


def test_html_only_mail_is_made_plain_safely(case, maildir):
    from email.mime.text import MIMEText

    part = MIMEText("<html><head><style>p{}</style><script>alert(1)</script></head><body><p>窓口を"
                    "<b>増やして</b>ください。</p><p>&lt;以上&gt;</p></body></html>", "html", "utf-8")
    part["From"], part["To"], part["Message-ID"] = "c@example.jp", "dx-comment@example.jp", "<h1@x>"
    part["Received"] = f"from x by y; {RECEIVED_HEADER}"
    run(case, maildir(part.as_bytes()))
    assert Submission.objects.get().text == "窓口を増やしてください。\n\n<以上>"


RECEIVED_HEADER = "Mon, 20 Jan 2025 09:30:00 +0900"


def test_a_mailbox_that_is_down_changes_nothing(case, tmp_path):
    with pytest.raises(Exception) as err:
        call_command("consultation", "mailbox", case.slug, "--maildir", str(tmp_path / "nowhere"))
    assert "メールボックス（Maildir）が見つかりません" in str(err.value)
    assert not Entry.objects.exists()


def test_the_sender_cannot_backdate_by_the_date_header(case, maildir):
    raw = jp_mail(at=datetime(2025, 2, 12, 9, 0, tzinfo=JST))  # the server received it after the period
    raw = raw.replace(b"Date: Wed, 12 Feb 2025", b"Date: Fri, 10 Jan 2025")
    run(case, maildir(raw))
    assert Entry.objects.get().hold_code == "period"


def test_a_shared_box_takes_only_the_mail_for_this_case(case, make_case, maildir, settings):
    other = make_case(slug="parks", email_address="parks@example.jp")
    path = maildir(jp_mail(to="dx-comment@example.jp"), jp_mail(to="parks@example.jp"),
                   jp_mail(to="comment+dx-plan@city.example.jp"))
    settings.CONSULTATIONS_INTAKE_MAILBOX = f"maildir://{path}"
    result = intake_mailbox.read_case(case)
    assert (result.new, result.skipped) == (2, 1)
    assert intake_mailbox.read_case(other).new == 1
    assert Submission.objects.filter(case=other).count() == 1


def test_the_worker_reads_every_mailbox_and_goes_on_past_one_that_is_down(case, make_case, maildir, settings, client,
                                                                          make_staff):
    from hiroba.consultations.intake import tasks

    other = make_case(slug="parks", email_address="parks@example.jp")
    settings.CONSULTATIONS_INTAKE_MAILBOXES = {"parks": "/nowhere/Maildir", case.slug: str(maildir(jp_mail()))}
    report = tasks.read_mailboxes.call()
    assert report == {"dx-plan": "new 1, duplicate 0, held 0",
                      "parks": "error: メールボックス（Maildir）が見つかりません: /nowhere/Maildir"}
    client.force_login(make_staff(email="q@example.jp").user)
    html = client.get(f"/staff/consultations/{other.slug}/channels/").content.decode()
    assert "メールボックスを読めませんでした：メールボックス（Maildir）が見つかりません" in html


def test_held_reasons_follow_the_language_but_the_output_lines_do_not(case, maildir):
    from django.utils import translation

    out = io.StringIO()
    with translation.override("en"):
        call_command("consultation", "mailbox", case.slug, "--maildir", str(maildir(jp_mail(text=""))), stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "new 0, duplicate 0, held 1"
    assert lines[1].startswith("held: ") and lines[1].endswith(": The mail has neither a text nor an attachment.")
    assert Entry.objects.get().hold_code == "empty"
