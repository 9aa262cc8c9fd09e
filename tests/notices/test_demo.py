"""The demo (`hiroba demo`): two types, 1,000 recipients of whom 30 % opted in, one batch sent with
some opened and some bounced, and a print run; loading it again changes nothing."""

from __future__ import annotations

from collections import Counter

import pytest

from hiroba.accounts import demo as accounts_demo
from hiroba.core.models import AuditEntry, Notification
from hiroba.notices import demo
from hiroba.notices.models import (
    Batch,
    BatchState,
    Consent,
    Notice,
    NoticeEvent,
    NoticeType,
    PaperReason,
    PrintItem,
    PrintRun,
    Recipient,
    Route,
    Status,
)

pytestmark = pytest.mark.django_db


def snapshot():
    return {model.__name__: model.objects.count() for model in (
        NoticeType, Recipient, Consent, Batch, Notice, NoticeEvent, PrintRun, PrintItem, AuditEntry, Notification)} | {
        "statuses": Counter(Notice.objects.values_list("status", flat=True))}


def test_demo_shows_the_whole_flow_and_loads_twice_without_changes():
    lines: list[str] = []
    accounts_demo.load(lines.append)
    demo.load(lines.append)
    assert sorted(NoticeType.objects.values_list("slug", flat=True)) == ["gakko-oshirase", "kaigo-hokenryo"]
    assert NoticeType.objects.get(slug="gakko-oshirase").reminder_days == 3
    assert Recipient.objects.count() == 1000
    assert Recipient.objects.filter(user__isnull=False).count() == 300
    batch = Batch.objects.get()
    assert batch.state == BatchState.DISPATCHED and batch.approved_by.email == "admin@hiroba.example"
    assert batch.created_by.email == "kaigo.clerk@hiroba.example"
    statuses = Counter(batch.notices.values_list("status", flat=True))
    assert statuses[Status.DELIVERED] > 100 and statuses[Status.SENT] > 50
    assert statuses[Status.PAPER] == 700 + 4 + 12  # not opted in, closed accounts, bounced
    reasons = Counter(batch.notices.filter(route=Route.PAPER).values_list("paper_reason", flat=True))
    assert reasons == {PaperReason.NOT_OPTED_IN: 700, PaperReason.NO_EMAIL: 4, PaperReason.BOUNCED: 12}
    run = PrintRun.objects.get()
    assert run.letter_count == 716 == run.items.count()
    kumin = batch.notices.get(recipient__user__email="kumin@hiroba.example")
    assert kumin.status == Status.SENT and kumin.reminded_at is not None and kumin.content_html
    before = snapshot()
    again: list[str] = []
    demo.load(again.append)
    assert snapshot() == before
    assert "送付バッチ: 作成済みです" in again
