"""The core path: recipients import, types JSON, batch check and send with approval, delivery
states, bounces, fallback to paper exactly once, print runs."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from hiroba.core import notify
from hiroba.core.actors import Actor
from hiroba.core.errors import NotAllowed, ServiceError
from hiroba.core.models import AuditEntry, Notification
from hiroba.notices import batches, delivery, printing, recipients, types
from hiroba.notices.models import (
    ON_PAPER,
    REACHED_DIGITALLY,
    Batch,
    Notice,
    NoticeEvent,
    PaperReason,
    PrintItem,
    Recipient,
    Status,
)

from .conftest import HEADER, batch_csv, make_recipients, opt_in

pytestmark = pytest.mark.django_db


def run(*args):
    import io

    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        call_command("notices", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


def send(notice_type, people, clerk, approver):
    check = batches.batch_check(notice_type=notice_type, raw=batch_csv(people))
    assert check.ok, check.errors
    batch = batches.batch_create(actor=Actor.staff(clerk), check=check)
    batches.batch_approve(actor=Actor.staff(approver), batch=batch)
    batches.batch_dispatch(actor=Actor.staff(clerk), batch=batch)
    return batch


def deliver_all():
    for pk in Notification.objects.filter(state=Notification.State.QUEUED).values_list("pk", flat=True):
        notify.deliver.call(pk)


def assert_exactly_once(batch):
    for notice in batch.notices.all():
        reached = notice.status in REACHED_DIGITALLY
        printed = PrintItem.objects.filter(notice=notice).exists()
        assert not (reached and printed), notice
    assert PrintItem.objects.filter(notice__batch=batch).values("notice").distinct().count() == \
        PrintItem.objects.filter(notice__batch=batch).count()


def test_recipients_import_utf8_and_shift_jis_with_row_errors(tmp_path, db):
    text = HEADER + ("0000000001,千代田 花子,1028688,東京都千代田区九段南1-2-1,1980/4/1,hanako@example.jp\n"
                     "0000000002,神田 太郎,102-8688,東京都千代田区神田1-1,1975-12-31,\n"
                     "0000000001,重複 次郎,102-8688,東京都千代田区,1990-01-01,\n"
                     "0000000003,日付 悪子,102-8688,東京都千代田区,昭和50年,\n"
                     ",名無し,102-8688,東京都千代田区,1990-01-01,\n")
    path = tmp_path / "atena.csv"
    path.write_bytes(text.encode("cp932"))
    code, out, err = run("recipients", "import", str(path))
    assert code == 1
    assert "created 2" in out and "refused 3" in out
    assert "row 4: 宛名番号「0000000001」が重複しています。" in err
    assert "row 5: 生年月日「昭和50年」を日付として読めません。" in err
    assert "row 6: 宛名番号が空です。" in err
    hanako = Recipient.objects.get(atena_number="0000000001")
    assert hanako.postal_code == "102-8688" and hanako.email == "hanako@example.jp"
    path.write_bytes(text.splitlines(keepends=True)[0].encode() + text.splitlines(keepends=True)[1].encode("utf-8"))
    code, out, _err = run("recipients", "import", str(path))
    assert code == 0 and "unchanged 1" in out
    assert AuditEntry.objects.filter(action="notices.recipients_import").count() == 2


def test_types_json_lists_the_batch_fields(notice_type):
    code, out, _err = run("types", "--format", "json")
    assert code == 0
    assert json.loads(out) == [{"slug": "kaigo-hoken", "name": "介護保険料のお知らせ", "fields": ["年度", "保険料", "納期限"]}]


def test_batch_check_reports_every_bad_input(notice_type, tmp_path):
    people = make_recipients(3)
    opt_in(people[0], notice_type)
    raw = ("宛名番号,年度,保険料,納期限,余分\n"
           f"{people[0].atena_number},令和7,48000,令和7年7月31日,x\n"
           f"{people[0].atena_number},令和7,48000,令和7年7月31日,x\n"
           "9999999999,令和7,48000,令和7年7月31日,x\n"
           f"{people[1].atena_number},令和7,,令和7年7月31日,x\n"
           f"{people[2].atena_number},令和7,50000,令和7年7月31日,x\n")
    path = tmp_path / "batch.csv"
    path.write_bytes(raw.encode("cp932"))
    code, out, _err = run("batch", "check", str(path), "--type", "kaigo-hoken")
    assert code == 1
    lines = out.splitlines()
    assert "row 1: 列「余分」はテンプレートで使われていません。" in lines
    assert "row 3: 宛名番号「0000000001」は2行目と重複しています。" in lines
    assert "row 4: 宛名番号「9999999999」は宛名にありません。" in lines
    assert "row 5: 「保険料」が空です。" in lines
    assert lines[-2:] == ["digital 1", "paper 1 (not_opted_in 1)"]
    # a placeholder with no column
    path.write_bytes(f"宛名番号,年度,保険料\n{people[2].atena_number},令和7,1\n".encode())
    code, out, _err = run("batch", "check", str(path), "--type", "kaigo-hoken")
    assert code == 1 and "row 1: テンプレートの差し込み項目「納期限」の列がありません。" in out
    assert not Batch.objects.exists()


def test_clean_batch_check_exits_zero(notice_type, tmp_path):
    people = make_recipients(4)
    opt_in(people[0], notice_type)
    path = tmp_path / "b.csv"
    path.write_bytes(batch_csv(people))
    code, out, _err = run("batch", "check", str(path), "--type", "kaigo-hoken")
    assert code == 0 and out.splitlines() == ["digital 1", "paper 3 (not_opted_in 3)"]


def test_batch_send_needs_an_approver_with_the_role(notice_type, tmp_path, clerk, approver, make_staff):
    people = make_recipients(3)
    opt_in(people[0], notice_type)
    path = tmp_path / "b.csv"
    path.write_bytes(batch_csv(people))
    code, _out, err = run("batch", "send", str(path), "--type", "kaigo-hoken", "--approved-by", clerk.email)
    assert code == 1 and "承認の役割" in err or "権限" in err
    assert not Notice.objects.exclude(status=Status.CREATED).exists()
    code, out, _err = run("batch", "send", str(path), "--type", "kaigo-hoken", "--approved-by", approver.email)
    assert code == 0
    batch = Batch.objects.get(pk=int(out.strip()))
    assert batch.state == "dispatched" and batch.approved_by == approver
    statuses = dict(batch.notices.values_list("recipient__atena_number", "status"))
    assert statuses == {people[0].atena_number: "queued", people[1].atena_number: "paper",
                        people[2].atena_number: "paper"}
    notice = batch.notices.get(recipient=people[0])
    assert notice.template == notice_type.current_template() and len(notice.content_sha256) == 64
    assert "48000" in notice.content_html and "区民 1" in notice.content_html


def test_creator_cannot_approve_and_template_change_needs_new_approval(notice_type, clerk, approver):
    people = make_recipients(2)
    check = batches.batch_check(notice_type=notice_type, raw=batch_csv(people))
    batch = batches.batch_create(actor=Actor.staff(approver), check=check)
    with pytest.raises(NotAllowed):
        batches.batch_approve(actor=Actor.staff(approver), batch=batch)
    batch2 = batches.batch_create(actor=Actor.staff(clerk), check=check)
    batches.batch_approve(actor=Actor.staff(approver), batch=batch2)
    types.template_publish(actor="test", notice_type=notice_type, title="{{ 年度 }}年度 通知",
                           body="{{ 保険料 }} 円 {{ 納期限 }}")
    with pytest.raises(ServiceError) as err:
        batches.batch_dispatch(actor=Actor.staff(clerk), batch=batch2)
    assert err.value.code == "template_changed"
    assert not batch2.notices.exclude(status=Status.CREATED).exists()


def test_mail_has_no_personal_content_and_states_follow_the_outbox(notice_type, clerk, approver, settings):
    people = make_recipients(2)
    user = opt_in(people[0], notice_type)
    batch = send(notice_type, people, clerk, approver)
    deliver_all()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [user.email]
    assert "48000" not in message.body and "区民" not in message.body and "/notices/" in message.body
    delivery.sync_mail_states()
    notice = batch.notices.get(recipient=people[0])
    notice.refresh_from_db()
    assert notice.status == Status.SENT and notice.sent_at is not None
    assert list(notice.events.values_list("to_status", flat=True)) == ["queued", "sent"]


def test_permanent_failure_goes_to_paper(notice_type, clerk, approver, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    people = make_recipients(1)
    opt_in(people[0], notice_type)
    batch = send(notice_type, people, clerk, approver)
    notice = batch.notices.get()
    Notification.objects.filter(pk=notice.notification_id).update(state=Notification.State.RETRY)
    delivery.sync_mail_states()
    notice.refresh_from_db()
    assert notice.status == Status.TEMPORARY_FAILURE
    Notification.objects.filter(pk=notice.notification_id).update(state=Notification.State.FAILED)
    result = printing.fallback()
    notice.refresh_from_db()
    assert notice.status == Status.PAPER and notice.paper_reason == PaperReason.FAILED
    assert result.letters == 1
    assert_exactly_once(batch)


def _dsn(message_id: str, rcpt: str, action: str, status: str) -> bytes:
    return (f"From: MAILER-DAEMON@example.jp\r\nTo: no-reply@hiroba.localhost\r\nSubject: Undelivered\r\n"
            f"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n"
            f"--B\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n"
            f"--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.jp\r\n\r\n"
            f"Final-Recipient: rfc822; {rcpt}\r\nAction: {action}\r\nStatus: {status}\r\n"
            f"Diagnostic-Code: smtp; 550 5.1.1 no such user\r\n\r\n"
            f"--B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {message_id}\r\nTo: {rcpt}\r\n\r\n"
            f"--B--\r\n").encode()


def test_bounces_from_a_maildir_are_idempotent_then_paper(notice_type, clerk, approver, tmp_path):
    import mailbox

    people = make_recipients(3)
    users = [opt_in(p, notice_type) for p in people]
    batch = send(notice_type, people, clerk, approver)
    deliver_all()
    delivery.sync_mail_states()
    box = mailbox.Maildir(str(tmp_path / "bounces"), create=True)
    n0 = batch.notices.get(recipient=people[0])
    n1 = batch.notices.get(recipient=people[1])
    box.add(_dsn(Notification.objects.get(pk=n0.notification_id).message_id, users[0].email, "failed", "5.1.1"))
    box.add(_dsn(Notification.objects.get(pk=n1.notification_id).message_id, users[1].email, "delayed", "4.4.1"))
    box.add(b"From: x@example.jp\r\nSubject: hello\r\n\r\nnot a report\r\n")
    code, out, _err = run("bounces", str(tmp_path / "bounces"))
    assert code == 0 and out.splitlines() == ["messages 3", "bounced 1", "delayed 1", "unmatched 1"]
    code, out, _err = run("bounces", str(tmp_path / "bounces"))
    assert "bounced 0" in out and "delayed 0" in out
    code, out, _err = run("fallback")
    assert "paper bounced 1" in out and "letters 1" in out
    code, out, _err = run("fallback")
    assert out.strip() == "letters 0"
    n0.refresh_from_db()
    assert n0.status == Status.PAPER and n0.print_item.run is not None


def test_fallback_not_opened_in_time_dry_run_and_twice(notice_type, clerk, approver, client):
    people = make_recipients(4)
    users = [opt_in(p, notice_type) for p in people[:3]]
    batch = send(notice_type, people, clerk, approver)
    client.force_login(users[0])
    opened = batch.notices.get(recipient=people[0])
    assert client.get(f"/notices/{opened.pk}/").status_code == 200
    later = timezone.now() + timedelta(days=notice_type.fallback_days, minutes=1)
    dry = printing.fallback(now=later, dry_run=True)
    assert dry.to_paper == {PaperReason.NOT_OPENED: 2} and dry.letters == 3
    assert not PrintItem.objects.exists()
    first = printing.fallback(now=later)
    second = printing.fallback(now=later)
    assert first.letters == 3 and second.letters == 0 and second.run is None
    opened.refresh_from_db()
    assert opened.status == Status.DELIVERED and not PrintItem.objects.filter(notice=opened).exists()
    # every person exactly once: reached digitally XOR in a print run
    for notice in batch.notices.all():
        assert (notice.status in REACHED_DIGITALLY) != PrintItem.objects.filter(notice=notice).exists()
    # opening after the switch to paper does not make it "delivered"
    client.force_login(users[1])
    late = batch.notices.get(recipient=people[1])
    assert client.get(f"/notices/{late.pk}/").status_code == 200
    late.refresh_from_db()
    assert late.status == Status.PAPER


def test_print_run_pdf_csv_and_transitions(notice_type, clerk, approver, tmp_path):
    people = make_recipients(3)
    batch = send(notice_type, people, clerk, approver)
    result = printing.fallback()
    run_ = result.run
    body, pages = printing.run_pdf(run_)
    assert body.startswith(b"%PDF") and sorted(pages) == [1, 2, 3] and all(p >= 1 for p in pages.values())
    csv_text = printing.tabular.to_csv(printing.run_table(run_, pages)).decode("utf-8-sig")
    assert "介護保険料のお知らせ" in csv_text and people[0].atena_number in csv_text
    code, out, _err = run("print", str(run_.pk), "--out", str(tmp_path))
    assert code == 0 and (tmp_path / f"print-{run_.pk}.pdf").exists()
    printing.run_transition(actor="test", run=run_, name="print")
    printing.run_transition(actor="test", run=run_, name="post")
    assert set(batch.notices.values_list("status", flat=True)) == {Status.POSTED}
    notice = batch.notices.first()
    code, out, _err = run("returned", printing.letter_code(notice))
    assert code == 0
    notice.refresh_from_db()
    assert notice.status == Status.RETURNED
    code, out, _err = run("returned", people[1].atena_number)
    assert code == 0
    assert set(NoticeEvent.objects.filter(notice=notice).values_list("to_status", flat=True)) >= set(ON_PAPER)


def test_consent_withdrawal_takes_effect_for_the_next_batch(notice_type, clerk, approver):
    people = make_recipients(1)
    user = opt_in(people[0], notice_type)
    first = send(notice_type, people, clerk, approver)
    assert first.notices.get().status == Status.QUEUED
    recipients.consent_withdraw(user=user, notice_type=notice_type)
    second = send(notice_type, people, clerk, approver)
    notice = second.notices.get()
    assert notice.status == Status.PAPER and notice.paper_reason == PaperReason.NOT_OPTED_IN
    assert first.notices.get().status == Status.QUEUED
    with pytest.raises(ServiceError):
        recipients.consent_give(user=user, notice_type=notice_type, version=notice_type.consent_version + 1)


def test_dispatch_resumes_and_is_idempotent(notice_type, clerk, approver, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    people = make_recipients(25)
    for p in people[:10]:
        opt_in(p, notice_type)
    check = batches.batch_check(notice_type=notice_type, raw=batch_csv(people))
    batch = batches.batch_create(actor=Actor.staff(clerk), check=check)
    batches.batch_approve(actor=Actor.staff(approver), batch=batch)
    # a worker that did one chunk and died: the batch stays 送付処理中 with the rest still 作成
    Batch.objects.filter(pk=batch.pk).update(state="dispatching")
    batches._dispatch_chunk(Batch.objects.select_related("notice_type").get(pk=batch.pk), Actor.system("t"), 7,
                            timezone.now())
    assert batch.notices.filter(status=Status.CREATED).count() == 18
    batches.batch_dispatch(actor=Actor.system("t"), batch=batch, chunk=4)
    batches.batch_dispatch(actor=Actor.system("t"), batch=batch, chunk=4)
    batch.refresh_from_db()
    assert batch.state == "dispatched"
    assert batch.notices.filter(status=Status.QUEUED).count() == 10
    assert batch.notices.filter(status=Status.PAPER).count() == 15
    assert Notification.objects.filter(template="notices/mail/waiting").count() == 10
    assert NoticeEvent.objects.filter(notice__batch=batch).count() == 25


def test_dispatch_takes_chunks_in_id_order_and_goes_back_for_rows_another_dispatcher_left(
        notice_type, clerk, approver, settings, monkeypatch):
    """Each chunk starts after the last id taken; a row skipped because another dispatcher held it
    (locked, then that dispatcher died: the row is still 作成 behind the cursor) is taken by the
    pass from the start, and the batch finishes with every notice moved once."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    people = make_recipients(9)
    for p in people[:4]:
        opt_in(p, notice_type)
    check = batches.batch_check(notice_type=notice_type, raw=batch_csv(people))
    batch = batches.batch_create(actor=Actor.staff(clerk), check=check)
    batches.batch_approve(actor=Actor.staff(approver), batch=batch)
    first = batch.notices.order_by("pk").values_list("pk", flat=True)[0]
    real, calls = batches._dispatch_chunk, []

    def skipping_the_first(batch_, actor, chunk, now, reachable=None, after=0):
        calls.append(after)
        # the first look-up behaves as if another dispatcher held the lowest row
        return real(batch_, actor, chunk, now, reachable, max(after, first) if len(calls) == 1 else after)

    monkeypatch.setattr(batches, "_dispatch_chunk", skipping_the_first)
    result = batches.batch_dispatch(actor=Actor.system("t"), batch=batch, chunk=3)
    assert result.finished and result.queued + result.paper == 9
    assert calls[0] == 0 and calls[1] > 0 and calls.count(0) == 3  # start, the pass back, the empty last look
    assert not batch.notices.filter(status=Status.CREATED).exists()
    assert NoticeEvent.objects.filter(notice__batch=batch).count() == 9
    queued = batch.notices.filter(status=Status.QUEUED)
    assert queued.count() == 4 and not queued.filter(notification__isnull=True).exists()
    assert len(set(queued.values_list("notification", flat=True))) == 4


def _pdf_text(data: bytes) -> str:
    import subprocess

    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()


def test_print_run_in_chunks_is_the_one_document_joined(notice_type, clerk, approver, settings, monkeypatch):
    people = make_recipients(5)
    send(notice_type, people, clerk, approver)
    run_ = printing.fallback().run
    settings.NOTICES_PRINT_CHUNK = 10_000
    whole, whole_pages = printing.run_pdf(run_)
    monkeypatch.setattr(printing, "MIN_PARALLEL_LETTERS", 0)
    settings.NOTICES_PRINT_CHUNK, settings.NOTICES_PRINT_WORKERS = 2, 2
    assert printing.chunks(5, workers=2) == [(0, 1), (1, 3), (3, 5)]
    joined, pages = printing.run_pdf(run_)
    assert pages == whole_pages and sorted(pages) == [1, 2, 3, 4, 5]
    text = _pdf_text(joined)
    assert text == _pdf_text(whole)  # same pages, same text, same order
    assert text.count("\f") == sum(pages.values())
    codes = [printing.letter_code(i.notice) for i in printing.run_items(run_)]
    assert [text.index(code) for code in codes] == sorted(text.index(code) for code in codes)


def test_print_run_chunks_are_even_and_bounded(settings):
    settings.NOTICES_PRINT_CHUNK = 250
    assert printing.chunks(10, workers=2) == [(0, 10)]  # short: one document, no fork
    assert printing.chunks(100, workers=2) == [(0, 50), (50, 100)]  # one per worker
    cut = printing.chunks(1001, workers=2)
    assert len(cut) == 5 and cut[0][0] == 0 and cut[-1][1] == 1001
    assert all(a[1] == b[0] for a, b in zip(cut, cut[1:], strict=False)) and max(e - s for s, e in cut) <= 250
