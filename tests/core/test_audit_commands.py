"""`hiroba audit verify` and `hiroba audit export`."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.management import call_command
from django.db import connection

from hiroba.core import audit

pytestmark = pytest.mark.django_db


def test_verify_prints_ok_and_the_count():
    for i in range(3):
        audit.record(actor="system", action="test", object_id=i)
    out = io.StringIO()
    call_command("audit", "verify", stdout=out)
    assert out.getvalue().strip() == "OK 3 entries"


def test_verify_exits_1_on_a_tampered_entry():
    for i in range(3):
        audit.record(actor="system", action="test", object_id=i)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE core_auditentry DISABLE TRIGGER USER")
        else:
            cursor.execute("DROP TRIGGER core_auditentry_no_update")
        cursor.execute("UPDATE core_auditentry SET actor_label = 'systen' WHERE seq = 2")
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("audit", "verify", stdout=out)
    assert exit_info.value.code == 1
    assert out.getvalue().startswith("NG entry 2")


def test_export_jsonl_and_csv(tmp_path):
    audit.record(actor="system", action="test.one", object_repr="一", changes={"a": [1, 2]})
    audit.record(actor="system", action="test.two", object_repr="二")
    out = io.StringIO()
    call_command("audit", "export", "--format", "jsonl", stdout=out, stderr=io.StringIO())
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["action"] for r in rows] == ["test.one", "test.two"]
    assert rows[0]["changes"] == {"a": [1, 2]} and rows[1]["prev_hash"] == rows[0]["entry_hash"]
    target = tmp_path / "audit.csv"
    call_command("audit", "export", "--format", "csv", "--out", str(target), stderr=io.StringIO())
    with target.open(encoding="utf-8") as fh:
        records = list(csv.DictReader(fh))
    assert [r["object_repr"] for r in records] == ["一", "二"]


def test_export_since_filters_by_day():
    audit.record(actor="system", action="old")
    out = io.StringIO()
    call_command("audit", "export", "--since", "2999-01-01", stdout=out, stderr=io.StringIO())
    assert out.getvalue() == ""


def test_export_rejects_a_bad_date():
    from django.core.management.base import CommandError

    with pytest.raises((CommandError, SystemExit)):
        call_command("audit", "export", "--since", "2025-02-30")
