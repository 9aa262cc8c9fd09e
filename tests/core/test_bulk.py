"""`core.bulk`: `update_by_pk` gives each row its own value, others untouched; `insert_rows` writes every row; on both databases."""

from __future__ import annotations

import pytest

from hiroba.core import bulk
from hiroba.core.models import Notification

pytestmark = pytest.mark.django_db


def test_each_row_gets_its_own_value_and_the_others_keep_theirs():
    rows = Notification.objects.bulk_create([Notification(template="t", recipient=f"r{i}@example.jp", subject="s",
                                                          body="b", attempts=0) for i in range(7)])
    ids = sorted(row.pk for row in Notification.objects.all())
    wanted = {pk: n * 10 for n, pk in enumerate(ids[:5], 1)}
    assert bulk.update_by_pk(Notification, "attempts", wanted, size=2) == 5
    got = dict(Notification.objects.values_list("pk", "attempts"))
    assert got == {**{pk: 0 for pk in ids}, **wanted}
    assert bulk.update_by_pk(Notification, "attempts", {}) == 0
    assert len(rows) == 7


def test_insert_rows_writes_every_row_in_chunks_without_instances():
    from django.utils import timezone

    now = bulk.db_value(Notification, "created_at", timezone.now())
    fields = ("template", "recipient", "language", "subject", "body", "html_body", "state", "attempts", "last_error",
              "object_type", "object_id", "created_at")
    rows = [("t", f"r{i}@example.jp", "ja", f"件名 {i}", "本文", "", "queued", i, "", "", "", now) for i in range(7)]
    bulk.insert_rows(Notification, fields, rows, size=3)
    bulk.insert_rows(Notification, fields, [])
    got = sorted(Notification.objects.values_list("recipient", "subject", "attempts"))
    assert got == [(f"r{i}@example.jp", f"件名 {i}", i) for i in range(7)]
