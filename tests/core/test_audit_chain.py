"""The audit chain detects any altered, removed or inserted entry, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from hiroba.core import audit
from hiroba.core.models import AuditChainHead, AuditEntry

pytestmark = pytest.mark.django_db


def _entries(n: int) -> list[AuditEntry]:
    return [
        audit.record(actor="tester", action="test.write", object_type="x.thing", object_id=i,
                     object_repr=f"thing {i}", changes={"title": ["前", f"後{i}"]})
        for i in range(1, n + 1)
    ]


def _without_triggers(sql: str, params: list[object]) -> None:
    """Play an attacker with database rights: bypass the append-only triggers."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE core_auditentry DISABLE TRIGGER USER")
            cursor.execute(sql, params)
            cursor.execute("ALTER TABLE core_auditentry ENABLE TRIGGER USER")
        else:
            cursor.execute("DROP TRIGGER core_auditentry_no_update")
            cursor.execute("DROP TRIGGER core_auditentry_no_delete")
            cursor.execute(sql, params)


def test_it_chains_each_entry_to_the_previous_one():
    first, second, third = _entries(3)
    assert first.prev_hash == audit.GENESIS
    assert second.prev_hash == first.entry_hash
    assert third.prev_hash == second.entry_hash
    assert [e.seq for e in (first, second, third)] == [1, 2, 3]
    head = AuditChainHead.objects.get()
    assert (head.last_seq, head.last_hash) == (3, third.entry_hash)


def test_it_verifies_an_intact_chain():
    _entries(5)
    result = audit.verify_chain()
    assert result.ok and result.count == 5
    assert result.message() == "OK 5 entries"


@pytest.mark.parametrize("column", ["actor_label", "action", "object_repr", "changes", "request_id"])
def test_it_detects_a_single_byte_changed_in_any_column(column):
    _entries(4)
    row = AuditEntry.objects.values(column).get(seq=2)
    value = row[column]
    if column == "changes":
        # change one byte inside the stored JSON text
        with connection.cursor() as cursor:
            cursor.execute("SELECT changes FROM core_auditentry WHERE seq = 2")
            stored = cursor.fetchone()[0]
        stored = stored if isinstance(stored, str) else __import__("json").dumps(stored, ensure_ascii=False)
        tampered = stored.replace('2"]', '3"]')
        assert tampered != stored
        cast = "::jsonb" if connection.vendor == "postgresql" else ""
        _without_triggers(f"UPDATE core_auditentry SET changes = %s{cast} WHERE seq = 2", [tampered])
    else:
        tampered = (value or "a")[:-1] + chr(ord((value or "a")[-1]) ^ 1)
        _without_triggers(f"UPDATE core_auditentry SET {column} = %s WHERE seq = 2", [tampered])
    result = audit.verify_chain()
    assert not result.ok
    assert result.seq == 2
    assert "altered" in result.problem


def test_it_detects_a_changed_timestamp():
    _entries(3)
    _without_triggers(
        "UPDATE core_auditentry SET occurred_at = occurred_at + INTERVAL '1 second' WHERE seq = 3"
        if connection.vendor == "postgresql"
        else "UPDATE core_auditentry SET occurred_at = replace(occurred_at, substr(occurred_at, 1, 4), '1999') WHERE seq = 3",
        [],
    )
    result = audit.verify_chain()
    assert (result.ok, result.seq) == (False, 3)


def test_it_detects_a_removed_entry_in_the_middle():
    _entries(5)
    _without_triggers("DELETE FROM core_auditentry WHERE seq = 3", [])
    result = audit.verify_chain()
    assert (result.ok, result.seq) == (False, 3)
    assert "removed" in result.problem


def test_it_detects_entries_removed_from_the_end():
    _entries(5)
    _without_triggers("DELETE FROM core_auditentry WHERE seq >= 4", [])
    result = audit.verify_chain()
    assert (result.ok, result.seq) == (False, 4)


def test_it_detects_a_forged_entry_appended_without_the_key():
    entries = _entries(3)
    last = entries[-1]
    forged = AuditEntry(seq=4, occurred_at=last.occurred_at, actor_label="attacker", action="test.write",
                        changes={}, prev_hash=last.entry_hash)
    forged.entry_hash = "f" * 64  # cannot compute the HMAC without settings.AUDIT_KEY
    forged.save(force_insert=True)
    AuditChainHead.objects.update(last_seq=4, last_hash=forged.entry_hash)
    result = audit.verify_chain()
    assert (result.ok, result.seq) == (False, 4)


def test_it_detects_an_entry_inserted_after_the_head():
    entries = _entries(2)
    extra = AuditEntry(seq=3, occurred_at=entries[-1].occurred_at, actor_label="x", action="y",
                       changes={}, prev_hash=entries[-1].entry_hash)
    extra.entry_hash = audit.compute_hash(extra)
    extra.save(force_insert=True)  # the head still says 2
    result = audit.verify_chain()
    assert not result.ok and "inserted" in result.problem


def test_the_database_refuses_update_and_delete():
    _entries(1)
    for sql in ("UPDATE core_auditentry SET action = 'x' WHERE seq = 1", "DELETE FROM core_auditentry WHERE seq = 1"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert AuditEntry.objects.get(seq=1).action == "test.write"


def test_the_model_refuses_save_and_delete_of_a_stored_entry():
    entry = _entries(1)[0]
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()


def test_it_records_before_and_after_values_and_the_request(client, staff_client):
    response = staff_client.get("/staff/", HTTP_X_REQUEST_ID="req-12345678", REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 200
    entry = audit.record(actor=staff_client.staff.user, action="thing.update", object_type="x.thing",
                         object_id=7, changes=audit.diff({"title": "案", "n": 1}, {"title": "改定案", "n": 1}))
    assert entry.changes == {"title": ["案", "改定案"]}
    assert entry.actor_label == "clerk@example.jp"


def test_snapshots_handle_empty_and_filled_file_fields():
    from django.db.models.fields.files import FieldFile, FileField

    from hiroba.core.models import Department

    field = FileField(upload_to="x")
    field.set_attributes_from_name("scan")
    empty = FieldFile(Department(code="d"), field, "")
    filled = FieldFile(Department(code="d"), field, "x/scan.pdf")
    assert audit._plain(empty) == ""
    assert audit._plain(filled) == "x/scan.pdf"
