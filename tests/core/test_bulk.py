"""`core.bulk.update_by_pk`: each row gets its own value, other rows are untouched, on both databases."""

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
