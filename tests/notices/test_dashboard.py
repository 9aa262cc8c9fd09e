"""The uptake / postage dashboard: share reached digitally per type and month, postage saved at
NOTICES_POSTAGE_YEN, a chart beside a table with the same figures, and its CSV."""

from __future__ import annotations

import pytest

from hiroba.notices import delivery, printing, queries

from .conftest import make_recipients, opt_in
from .test_core_path import send

pytestmark = pytest.mark.django_db


def test_uptake_and_postage_saved(notice_type, clerk, approver, settings, client, make_staff):
    settings.NOTICES_POSTAGE_YEN = 120
    people = make_recipients(5)
    users = [opt_in(p, notice_type) for p in people[:3]]
    batch = send(notice_type, people, clerk, approver)
    for user, person in zip(users[:2], people[:2], strict=True):
        delivery.notice_open(notice=batch.notices.get(recipient=person), user=user, as_="self")
    printing.fallback()
    data = queries.uptake(clerk)
    assert len(data.rows) == 1
    row = data.rows[0]
    assert (row.total, row.digital, row.paper, row.pending, row.share) == (5, 2, 2, 1, 40.0)
    assert (data.saved, data.spent) == (240, 240)
    client.force_login(clerk)
    page = client.get("/staff/notices/dashboard/").content.decode()
    assert '<svg class="chart"' in page and "240 円（1通 120 円で計算）" in page and "40.0" in page
    csv = client.get("/staff/notices/dashboard/?format=csv").content.decode("utf-8-sig")
    assert "介護保険料のお知らせ,5,2,2,1,40.0,240" in csv
    # another department's staff see none of it
    other = make_staff(email="o@example.jp", department="digital")
    assert queries.uptake(other.user).rows == []
