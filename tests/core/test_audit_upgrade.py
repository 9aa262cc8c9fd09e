"""Upgrading an instance with entries still pending: the migration numbers and MACs them in the
order they were written, and the chain they are linked into verifies."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from hiroba.core import audit
from hiroba.core.models import AuditEntry

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("core", "0004_cache_table")]
AFTER = [("core", "0005_audit_pending_numbered")]


def _migrate(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)


@pytest.fixture(autouse=True)
def _back_to_the_latest_schema():
    """The test stops at 0005; later migrations (and other apps') are applied again afterwards."""
    yield
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_entries_pending_at_the_upgrade_are_numbered_and_verify():
    _migrate(BEFORE)
    try:
        with connection.cursor() as cursor:
            for i in (1, 2, 3):
                cursor.execute(
                    "INSERT INTO core_pendingauditentry (occurred_at, actor_id, actor_label, action, object_type, "
                    "object_id, object_repr, changes, request_id, ip_address) "
                    "VALUES (%s, NULL, 'resident', 'test.receive', 'x.thing', %s, %s, %s, '', NULL)",
                    [timezone.now(), str(i), f"thing {i}", json.dumps({"n": i})])
    finally:
        _migrate(AFTER)
    assert audit.pending_count() == 3
    audit.record_pending(actor="resident", action="test.receive", object_type="x.thing", object_id=4)
    assert audit.chain_pending() == 4
    assert list(AuditEntry.objects.values_list("pending_seq", "object_id")) == [(1, "1"), (2, "2"), (3, "3"),
                                                                                (4, "4")]
    result = audit.verify_chain()
    assert result.ok, result.message()
    with connection.cursor() as cursor:  # the triggers are back after SQLite rebuilt the table
        from django.db import DatabaseError, transaction

        audit.record_pending(actor="resident", action="test.receive", object_type="x.thing", object_id=5)
        with pytest.raises(DatabaseError), transaction.atomic():
            cursor.execute("UPDATE core_pendingauditentry SET action = 'test.forged'")
        with pytest.raises(DatabaseError), transaction.atomic():
            cursor.execute("DELETE FROM core_pendingauditentry")
