"""Pending audit entries (the residents' hot path): written without the chain head's lock,
linked into the chain afterwards in order, and never lost, changed or linked twice."""

from __future__ import annotations

import threading
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from hiroba.core import audit
from hiroba.core.models import AuditChainHead, AuditEntry, PendingAuditEntry

pytestmark = pytest.mark.django_db


def _pending(n: int, *, start: int = 1) -> None:
    for i in range(start, start + n):
        audit.record_pending(actor="resident", action="test.receive", object_type="x.thing", object_id=i,
                             object_repr=f"thing {i}", changes={"n": i})


def test_a_pending_entry_is_not_in_the_chain_until_linked():
    _pending(3)
    assert AuditEntry.objects.count() == 0
    assert audit.pending_count() == 3
    assert audit.chain_pending() == 3
    assert audit.pending_count() == 0
    entries = list(AuditEntry.objects.order_by("seq"))
    assert [(e.seq, e.object_id, e.changes) for e in entries] == [(1, "1", {"n": 1}), (2, "2", {"n": 2}),
                                                                  (3, "3", {"n": 3})]
    assert entries[0].prev_hash == audit.GENESIS
    assert entries[1].prev_hash == entries[0].entry_hash and entries[2].prev_hash == entries[1].entry_hash
    head = AuditChainHead.objects.get()
    assert (head.last_seq, head.last_hash) == (3, entries[2].entry_hash)
    assert audit.verify_chain().ok


def test_linking_keeps_what_was_recorded():
    audit.record_pending(actor="resident", action="test.receive", object_type="x.thing", object_id=7,
                         object_repr="thing 7", changes={"件名": "区の計画", "items": [1, 2]})
    pending = PendingAuditEntry.objects.get()
    audit.chain_pending()
    entry = AuditEntry.objects.get()
    assert (entry.actor_label, entry.action, entry.object_type, entry.object_id, entry.object_repr) == (
        "resident", "test.receive", "x.thing", "7", "thing 7")
    assert entry.changes == {"件名": "区の計画", "items": [1, 2]}
    assert entry.occurred_at == pending.occurred_at


def test_it_links_in_batches_without_a_gap():
    _pending(7)
    assert audit.chain_pending(batch_size=3) == 7
    assert list(AuditEntry.objects.values_list("seq", flat=True)) == list(range(1, 8))
    assert audit.verify_chain().ok


def test_a_staff_write_links_what_is_pending_after_its_own_entry():
    _pending(2)
    own = audit.record(actor="staff", action="test.staff_write", object_type="x.thing", object_id=99)
    assert own.seq == 1
    assert list(AuditEntry.objects.values_list("seq", "action")) == [
        (1, "test.staff_write"), (2, "test.receive"), (3, "test.receive")]
    assert audit.pending_count() == 0
    assert audit.verify_chain().ok


def test_verifying_and_exporting_link_pending_entries_first():
    audit.record(actor="staff", action="test.staff_write")
    _pending(2)
    result = audit.verify_chain()
    assert result.ok and result.count == 3
    _pending(1, start=3)
    out = StringIO()
    assert audit.export(out, since=None, fmt="jsonl") == 4


def test_a_pending_entry_rolled_back_with_its_write_leaves_nothing():
    with pytest.raises(RuntimeError), transaction.atomic():
        _pending(1)
        raise RuntimeError("the write failed")
    assert audit.pending_count() == 0
    assert audit.chain_pending() == 0
    assert AuditEntry.objects.count() == 0


def test_a_pending_entry_cannot_be_changed():
    _pending(1)
    with pytest.raises(DatabaseError), transaction.atomic():
        PendingAuditEntry.objects.update(action="test.forged")
    assert PendingAuditEntry.objects.get().action == "test.receive"


def test_the_chain_command_links_and_says_how_many():
    _pending(4)
    out = StringIO()
    call_command("audit", "chain", stdout=out)
    assert out.getvalue().strip() == "4 entries linked"
    assert AuditEntry.objects.count() == 4
    out = StringIO()
    call_command("audit", "chain", stdout=out)
    assert out.getvalue().strip() == "0 entries linked"


@pytest.mark.postgres  # real concurrent connections
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_and_chainers_link_each_entry_exactly_once():
    errors: list[BaseException] = []

    def writer(start: int) -> None:
        try:
            for i in range(start, start + 25):
                with transaction.atomic():
                    _pending(1, start=i)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    def chainer() -> None:
        try:
            for _ in range(20):
                audit.chain_pending(batch_size=7)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(s,)) for s in (1, 101, 201)]
    threads += [threading.Thread(target=chainer) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    audit.chain_pending()
    ids = sorted(int(i) for i in AuditEntry.objects.values_list("object_id", flat=True))
    assert ids == [*range(1, 26), *range(101, 126), *range(201, 226)]
    assert audit.verify_chain().ok and audit.verify_chain().count == 75
