"""CSV export: no contact data unless asked for with a reason; every export is audited."""

from __future__ import annotations

import csv
import io

import pytest

from hiroba.core.models import AuditEntry
from hiroba.workshops import exports

pytestmark = pytest.mark.django_db


def _rows(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_contacts_are_left_out_by_default(programme, submit, make_staff):
    submit(programme, 0)
    out = io.StringIO()
    exports.applications_csv(actor=make_staff().user, programme=programme, out=out, include_contacts=False)
    header, row = _rows(out.getvalue())
    assert "保護者のメールアドレス" not in header and "住所" not in header
    assert "guardian0@example.jp" not in out.getvalue() and "九段南" not in out.getvalue()
    assert row[0] == "R7-JHS-0001" and row[1] == "受付完了（選考待ち）"
    entry = AuditEntry.objects.get(action="workshops.export")
    assert entry.changes == {"include_contacts": False, "reason": "", "rows": 1}


def test_contacts_need_a_reason_which_is_recorded(programme, submit, make_staff):
    submit(programme, 0)
    clerk = make_staff().user
    with pytest.raises(ValueError):
        exports.applications_csv(actor=clerk, programme=programme, out=io.StringIO(), include_contacts=True)
    assert not AuditEntry.objects.filter(action="workshops.export").exists()
    out = io.StringIO()
    exports.applications_csv(actor=clerk, programme=programme, out=out, include_contacts=True,
                             reason="第1回の案内を郵送するため")
    header, row = _rows(out.getvalue())
    assert row[header.index("保護者のメールアドレス")] == "guardian0@example.jp"
    assert AuditEntry.objects.get(action="workshops.export").changes["reason"] == "第1回の案内を郵送するため"
