"""NOTICES_MAILS_PER_HOUR: at most that many notice e-mails queued in an hour; the batch stays
送付処理中 and a later `hiroba notices batch dispatch` sends the rest, nobody twice or skipped."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from hiroba.core.actors import Actor
from hiroba.core.models import Notification
from hiroba.notices import batches
from hiroba.notices.models import BatchState, Status

from .conftest import batch_csv, make_recipients, opt_in
from .test_core_path import run

pytestmark = pytest.mark.django_db


def an_hour_passes():
    Notification.objects.update(created_at=timezone.now() - timedelta(hours=1, minutes=1))


def test_sending_stops_at_the_hourly_limit_and_resumes(notice_type, clerk, approver, settings):
    settings.NOTICES_MAILS_PER_HOUR = 2
    people = make_recipients(5)
    for person in people[:4]:
        opt_in(person, notice_type)
    batch = batches.batch_create(actor=Actor.staff(clerk), check=batches.batch_check(notice_type=notice_type,
                                                                                  raw=batch_csv(people)))
    batches.batch_approve(actor=Actor.staff(approver), batch=batch)
    first = batches.batch_dispatch(actor=Actor.staff(clerk), batch=batch)
    assert (first.queued, first.paper, first.limited, first.finished) == (2, 0, True, False)
    batch.refresh_from_db()
    assert batch.state == BatchState.DISPATCHING
    code, out, _err = run("batch", "dispatch")  # within the same hour: nothing more
    assert code == 0 and out.splitlines() == [str(batch.pk), "queued 0", "paper 0", "limited"]
    an_hour_passes()
    code, out, _err = run("batch", "dispatch")
    assert out.splitlines() == [str(batch.pk), "queued 2", "paper 0", "limited"]
    an_hour_passes()
    code, out, _err = run("batch", "dispatch", str(batch.pk))
    assert out.splitlines() == [str(batch.pk), "queued 0", "paper 1"]
    batch.refresh_from_db()
    assert batch.state == BatchState.DISPATCHED
    statuses = sorted(batch.notices.values_list("status", flat=True))
    assert statuses == [Status.PAPER] + [Status.QUEUED] * 4
    assert Notification.objects.filter(template=batches.MAIL_TEMPLATE).count() == 4
    assert len(set(batch.notices.exclude(notification=None).values_list("notification_id", flat=True))) == 4
