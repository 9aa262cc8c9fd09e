"""`core.notify`: a message a worker claimed (送信中) and never sent — the worker died between
the claim and the send — is claimed again once its claim is older than
``HIROBA_NOTIFY_CLAIM_TIMEOUT``, by the sweep (`deliver_due`) or a requeued delivery task, and
sent once; never before the timeout."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.mail.backends.base import BaseEmailBackend

from hiroba.core import notify
from hiroba.core.models import Notification
from tests.consultations.test_receipt_mail import free_port, smtp  # noqa: F401  (the SMTP fixture)
from tests.core.test_notify import templates  # noqa: F401  (the mail template fixture)

pytestmark = pytest.mark.django_db(transaction=True)

CLAIMED = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


class DyingBackend(BaseEmailBackend):
    """A worker killed after its claim, before the message leaves: nothing after the claim runs
    (SystemExit is not one of the send failures `deliver` retries)."""

    def send_messages(self, email_messages):  # type: ignore[no-untyped-def]
        raise SystemExit("killed")


def claimed_by_a_worker_that_dies(settings, time_machine, templates, attempts_before: int = 0) -> Notification:  # noqa: F811
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    time_machine.move_to(CLAIMED, tick=False)
    [row] = notify.send(template=templates, to="a@example.jp", context={"number": "1", "name": "x"})
    Notification.objects.filter(pk=row.pk).update(attempts=attempts_before)
    smtp_backend = settings.EMAIL_BACKEND
    settings.EMAIL_BACKEND = "tests.core.test_notify_claim_timeout.DyingBackend"
    with pytest.raises(SystemExit):
        notify.deliver.call(row.pk)
    settings.EMAIL_BACKEND = smtp_backend  # the next worker's mail server works
    row.refresh_from_db()
    assert row.state == Notification.State.SENDING and row.claimed_at == CLAIMED
    return row


def test_it_is_sent_once_by_the_sweep_after_the_timeout_and_not_before(smtp, settings, time_machine,  # noqa: F811
                                                                        templates):  # noqa: F811
    settings.HIROBA_NOTIFY_CLAIM_TIMEOUT = timedelta(minutes=3)
    row = claimed_by_a_worker_that_dies(settings, time_machine, templates)
    time_machine.move_to(CLAIMED + timedelta(minutes=3) - timedelta(seconds=1), tick=False)
    assert notify.deliver_due() == 0
    notify.deliver.call(row.pk)  # a requeued task: the claim still holds
    assert smtp.messages == []
    row.refresh_from_db()
    assert row.state == Notification.State.SENDING and row.attempts == 1
    time_machine.move_to(CLAIMED + timedelta(minutes=3, seconds=1), tick=False)
    assert notify.deliver_due() == 1
    row.refresh_from_db()
    assert row.state == Notification.State.SENT and row.attempts == 2
    assert notify.deliver_due() == 0
    notify.deliver.call(row.pk)
    time_machine.move_to(CLAIMED + timedelta(hours=5), tick=False)
    assert notify.deliver_due() == 0
    assert len(smtp.messages) == 1
    assert smtp.messages[0]["Message-ID"] == f"<notification-{row.pk}@hiroba>"


def test_a_requeued_delivery_task_takes_it_again_after_the_default_ten_minutes(smtp, settings,  # noqa: F811
                                                                               time_machine, templates):  # noqa: F811
    row = claimed_by_a_worker_that_dies(settings, time_machine, templates)
    time_machine.move_to(CLAIMED + timedelta(minutes=9, seconds=59), tick=False)
    notify.deliver.call(row.pk)
    assert smtp.messages == []
    time_machine.move_to(CLAIMED + timedelta(minutes=10, seconds=1), tick=False)
    notify.deliver.call(row.pk)
    notify.deliver.call(row.pk)
    assert len(smtp.messages) == 1
    row.refresh_from_db()
    assert row.state == Notification.State.SENT


def test_a_last_attempt_cut_short_is_marked_failed_not_sent_again(smtp, settings, time_machine,  # noqa: F811
                                                                  templates):  # noqa: F811
    row = claimed_by_a_worker_that_dies(settings, time_machine, templates, attempts_before=notify.MAX_ATTEMPTS - 1)
    time_machine.move_to(CLAIMED + timedelta(hours=1), tick=False)
    assert notify.deliver_due() == 0
    notify.deliver.call(row.pk)
    row.refresh_from_db()
    assert row.state == Notification.State.FAILED and row.last_error == notify.DIED_WHILE_SENDING
    assert smtp.messages == []


def test_a_failure_after_the_claim_was_taken_over_leaves_the_new_claim_alone(settings, time_machine,
                                                                             templates):  # noqa: F811
    row = claimed_by_a_worker_that_dies(settings, time_machine, templates)
    time_machine.move_to(CLAIMED + timedelta(minutes=11), tick=False)
    Notification.objects.filter(pk=row.pk).update(claimed_at=CLAIMED + timedelta(minutes=11))  # another worker's claim
    notify._failed(row, ConnectionRefusedError("the slow first worker's send failed at last"))
    row.refresh_from_db()
    assert row.state == Notification.State.SENDING and row.last_error == ""
