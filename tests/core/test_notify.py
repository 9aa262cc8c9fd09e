"""`core.notify`: one message per recipient, rendered in their language, stored in the caller's
transaction and delivered after commit over real SMTP (aiosmtpd on loopback), retried when the
server fails, never sent twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from hiroba.core import notify
from hiroba.core.models import Notification
from tests.consultations.test_receipt_mail import free_port, smtp  # noqa: F401  (the SMTP fixture)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def templates(settings, tmp_path):
    folder = tmp_path / "tpl" / "testmail"
    folder.mkdir(parents=True)
    (folder / "hello.txt").write_text(
        "{% load i18n %}{% translate '受付番号' %} {{ number }}\n\n{{ name }} 様\n{{ municipality }}からのお知らせです。\n",
        encoding="utf-8",
    )
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path / "tpl", *settings.TEMPLATES[0]["DIRS"]]}]
    return "testmail/hello"


def test_it_sends_one_message_per_recipient_after_commit(smtp, templates):  # noqa: F811
    with transaction.atomic():
        rows = notify.send(template=templates, to=["a@example.jp", "b@example.jp", "a@example.jp", ""],
                           context={"number": "2025-PC-0001", "name": "区民 花子"})
        assert smtp.messages == []  # nothing leaves before the commit
    assert len(rows) == 2
    assert sorted(m["To"] for m in smtp.messages) == ["a@example.jp", "b@example.jp"]
    mail = smtp.messages[0]
    assert mail["Subject"] == "受付番号 2025-PC-0001"
    assert "区民 花子 様" in mail.get_content()
    assert mail["Auto-Submitted"] == "auto-generated"
    assert set(Notification.objects.values_list("state", flat=True)) == {"sent"}


def test_a_rolled_back_write_sends_nothing(smtp, templates):  # noqa: F811
    with pytest.raises(RuntimeError), transaction.atomic():
        notify.send(template=templates, to="a@example.jp", context={"number": "1", "name": "x"})
        raise RuntimeError("the caller's write failed")
    assert smtp.messages == []
    assert not Notification.objects.exists()


def test_it_renders_in_the_recipients_language(smtp, templates):  # noqa: F811
    notify.send(template=templates, to="a@example.jp", context={"number": "7", "name": "Hanako"}, language="en")
    assert smtp.messages[0]["Subject"] == "Receipt number 7"


def test_a_mail_server_that_is_down_is_retried_and_the_message_kept(settings, templates):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nobody listens there
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    [row] = notify.send(template=templates, to="a@example.jp", context={"number": "1", "name": "x"})
    notify.deliver.call(row.pk)
    row.refresh_from_db()
    assert row.state == Notification.State.RETRY
    assert row.attempts == 1
    assert "ConnectionRefusedError" in row.last_error
    assert row.next_attempt_at > timezone.now()
    for _ in range(notify.MAX_ATTEMPTS - 1):
        Notification.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
        assert notify.deliver_due() == 1
    row.refresh_from_db()
    assert row.state == Notification.State.FAILED
    assert row.attempts == notify.MAX_ATTEMPTS
    assert row.body.startswith("x 様")  # what would have been sent is kept as it was


def test_a_message_is_never_sent_twice(smtp, settings, templates):  # noqa: F811
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    [row] = notify.send(template=templates, to="a@example.jp", context={"number": "1", "name": "x"})
    notify.deliver.call(row.pk)
    notify.deliver.call(row.pk)  # a duplicate task, or a second worker
    assert notify.deliver_due(now=timezone.now() + timedelta(hours=1)) == 0
    assert len(smtp.messages) == 1
    assert smtp.messages[0]["Message-ID"] == f"<notification-{row.pk}@hiroba>"


def test_a_worker_that_died_mid_send_is_picked_up(smtp, settings, templates):  # noqa: F811
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    [row] = notify.send(template=templates, to="a@example.jp", context={"number": "1", "name": "x"})
    Notification.objects.filter(pk=row.pk).update(state="sending", attempts=1,
                                                  claimed_at=timezone.now() - timedelta(hours=1))
    assert notify.deliver_due() == 1
    row.refresh_from_db()
    assert row.state == Notification.State.SENT
    assert len(smtp.messages) == 1


def test_a_mail_to_many_is_queued_one_task_per_hundred_and_each_message_sent_once(smtp, templates, settings):  # noqa: F811
    from django.core.management import call_command
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    to = [f"r{i}@example.jp" for i in range(250)]
    with transaction.atomic():
        rows = notify.send(template=templates, to=to, context={"number": "1", "name": "x"})
    assert len({row.pk for row in rows}) == 250 and all(row.pk for row in rows)  # ids came back from the bulk insert
    tasks = list(DBTaskResult.objects.order_by("enqueued_at"))
    assert [t.task_path for t in tasks] == ["hiroba.core.notify.deliver_many"] * 3
    assert sorted(len(t.args_kwargs["args"][0]) for t in tasks) == [50, 100, 100]
    # a message another worker already sent is skipped, not sent twice
    notify.deliver.call(rows[0].pk)
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    assert sorted(m["To"] for m in smtp.messages) == sorted(to)
    assert set(Notification.objects.values_list("state", flat=True)) == {"sent"}
