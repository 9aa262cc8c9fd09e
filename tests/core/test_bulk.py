"""`core.bulk`: `update_by_pk` gives each row its own value (and other columns alike), others untouched; `insert_rows` writes every row; on both databases."""

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


def test_update_by_pk_sets_the_other_columns_alike_in_the_same_statement(django_assert_num_queries):
    Notification.objects.bulk_create([Notification(template="t", recipient=f"r{i}@example.jp", subject="s",
                                                   body="b", attempts=0) for i in range(5)])
    ids = sorted(Notification.objects.values_list("pk", flat=True))
    with django_assert_num_queries(2):  # 3 rows, 2 a statement
        assert bulk.update_by_pk(Notification, "attempts", {pk: 7 for pk in ids[:3]}, size=2,
                                 also={"state": "sent", "last_error": "x"}) == 3
    got = {pk: (attempts, state, error) for pk, attempts, state, error in
           Notification.objects.values_list("pk", "attempts", "state", "last_error")}
    assert got == {**{pk: (7, "sent", "x") for pk in ids[:3]}, **{pk: (0, "queued", "") for pk in ids[3:]}}


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


def test_insert_rows_returning_gives_each_row_its_id_in_chunks():
    from django.utils import timezone

    now = bulk.db_value(Notification, "created_at", timezone.now())
    fields = ("template", "recipient", "language", "subject", "body", "html_body", "state", "attempts", "last_error",
              "object_type", "object_id", "created_at")
    rows = [("t", f"r{i}@example.jp", "ja", "s", "b", "", "queued", i, "", "", "", now) for i in range(7)]
    back = bulk.insert_rows(Notification, fields, rows, size=3, returning=("pk", "recipient"))
    assert len(back) == 7
    assert dict(Notification.objects.values_list("pk", "recipient")) == dict(back)
    assert bulk.insert_rows(Notification, fields, [], returning=("pk",)) == []


def test_a_mail_to_many_is_stored_with_its_ids_and_nothing_deferred(django_assert_max_num_queries):
    from hiroba.core import notify

    rows = notify._store(template="t", recipients=[f"r{i}@example.jp" for i in range(1200)] + ["r1@example.jp"],
                         language="ja", subject="件名", body="本文\n", html="", about=None)
    assert [r.recipient for r in rows] == [f"r{i}@example.jp" for i in range(1200)]
    stored = {n.pk: n for n in Notification.objects.all()}
    assert len(stored) == 1200
    with django_assert_max_num_queries(0):  # every field is loaded: nothing is read back per row
        seen = [(r.pk, r.recipient, r.state, r.attempts, r.sent_at, r.claimed_at, r.created_at) for r in rows]
    assert all(stored[pk].recipient == address and stored[pk].created_at == created for pk, address, *_x, created in seen)
    assert {(r.state, r.attempts, r.sent_at) for r in rows} == {("queued", 0, None)}
