"""The audit log: record every staff write, verify the chain, export for auditors.

Each entry's hash is HMAC-SHA256 (keyed with settings.AUDIT_KEY, which does not live in the
database) over the entry's canonical JSON and the previous entry's hash. Someone with write
access to the database alone can therefore neither alter, remove nor insert an entry without
`verify_chain` noticing.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import IO, Any, Final

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models.fields.files import FieldFile
from django.utils import timezone

from hiroba.core import request_context
from hiroba.core.models import AuditChainHead, AuditEntry, PendingAuditEntry

GENESIS = "0" * 64


class AuditAction:
    """Names of the actions core writes for security events and the Django admin (typed
    constants, as zulip's RealmAuditLog.*; domain apps name theirs ``<app>.<verb>``)."""

    LOGIN: Final = "auth.login"
    LOGOUT: Final = "auth.logout"
    LOGIN_FAILED: Final = "auth.login_failed"
    #: A wrong second factor (TOTP or recovery code); counted towards the lock-out like a password.
    MFA_FAILED: Final = "auth.mfa_failed"
    LOCKED_OUT: Final = "auth.locked_out"
    ADMIN_ADD: Final = "admin.add"
    ADMIN_CHANGE: Final = "admin.change"
    ADMIN_DELETE: Final = "admin.delete"


SYSTEM_ACTOR = "system"
#: Pending entries linked per transaction by `chain_pending` (and at most this many by each
#: synchronous `record`, so a staff write never waits long behind a flood of submissions).
CHAIN_BATCH = 2000
RECORD_DRAIN = 200


def _plain(value: Any) -> Any:
    """A JSON-safe, database-round-trip-stable form of a field value."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return str(value.pk)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_plain(v) for v in value]
        return sorted(items, key=str) if isinstance(value, (set, frozenset)) else items
    if isinstance(value, FieldFile):
        return value.name or ""
    return str(value)


def snapshot(obj: models.Model, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """Field values of `obj` in plain form (foreign keys by id)."""
    names = list(fields) if fields is not None else [
        f.attname for f in obj._meta.concrete_fields
    ]
    return {name: _plain(getattr(obj, name)) for name in names}


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """{field: [before, after]} for the fields whose plain values differ."""
    changed: dict[str, list[Any]] = {}
    for key in sorted(set(before) | set(after)):
        old, new = _plain(before.get(key)), _plain(after.get(key))
        if old != new:
            changed[key] = [old, new]
    return changed


def canonical(entry: AuditEntry) -> bytes:
    payload = {
        "seq": entry.seq,
        "occurred_at": entry.occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_id": entry.actor_id,
        "actor_label": entry.actor_label,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "object_repr": entry.object_repr,
        "changes": entry.changes,
        "request_id": entry.request_id,
        "ip_address": entry.ip_address,
        "prev_hash": entry.prev_hash,
    }
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def compute_hash(entry: AuditEntry) -> str:
    return hmac.new(settings.AUDIT_KEY.encode(), canonical(entry), hashlib.sha256).hexdigest()


def _actor_fields(actor: Any) -> tuple[int | None, str]:
    if actor is None or isinstance(actor, str):
        return None, actor or SYSTEM_ACTOR
    if getattr(actor, "is_authenticated", False):
        return actor.pk, getattr(actor, "email", "") or str(actor)
    return None, "anonymous"


def _take_next_seq(*, advance: bool = True) -> tuple[int, str]:
    """Lock the chain head and advance it: ``(seq for the new entry, previous entry's hash)``;
    with ``advance=False`` only lock it: ``(last seq, last hash)``.

    One ``UPDATE … RETURNING`` (SQLite ≥ 3.35, PostgreSQL): the row lock it takes is held
    until the caller's transaction ends, so entries are chained strictly one after another.
    """
    table = connection.ops.quote_name(AuditChainHead._meta.db_table)
    step = 1 if advance else 0
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET last_seq = last_seq + {step} WHERE id = 1 RETURNING last_seq, last_hash")
        row = cursor.fetchone()
    if row is None:  # the very first entry of this instance
        AuditChainHead.objects.get_or_create(id=1)
        return _take_next_seq(advance=advance)
    return int(row[0]), row[1] or GENESIS


def _insert_and_advance_head(entry: AuditEntry) -> None:
    """Write the entry and move the chain head to it.

    Plain SQL with each field's own database preparation (the row the ORM's
    ``save(force_insert=True)`` would write, without its per-call query compilation: every
    staff write and every public submission passes here). On PostgreSQL both changes go in
    one statement (a data-modifying ``WITH``), one round trip fewer while the head is locked.
    """
    fields = AuditEntry._meta.concrete_fields
    qn = connection.ops.quote_name
    insert = (
        f"INSERT INTO {qn(AuditEntry._meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    head = f"UPDATE {qn(AuditChainHead._meta.db_table)} SET last_hash = %s WHERE id = 1"
    params = [f.get_db_prep_save(getattr(entry, f.attname), connection) for f in fields]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"WITH appended AS ({insert}) {head}", [*params, entry.entry_hash])
        else:
            cursor.execute(insert, params)
            cursor.execute(head, [entry.entry_hash])
    entry._state.adding = False
    entry._state.db = connection.alias


def record(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    object_repr: str = "",
    changes: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry to the chain, inside the caller's transaction.

    `actor` is a user, a label such as "system", or None. `changes` is usually `diff(before,
    after)`; other details (a reason, a count) may go in it too.
    """
    values = _entry_values(actor=actor, action=action, obj=obj, object_type=object_type, object_id=object_id,
                           object_repr=object_repr, changes=changes)
    # No savepoint: if the entry cannot be written, the caller's whole transaction must fail.
    with transaction.atomic(savepoint=False):
        seq, prev_hash = _take_next_seq()
        entry = AuditEntry(seq=seq, prev_hash=prev_hash, **values)
        entry.entry_hash = compute_hash(entry)
        _insert_and_advance_head(entry)
        # The head is locked by this transaction anyway: link what the hot paths left pending.
        if PendingAuditEntry.objects.exists():
            _chain_batch(RECORD_DRAIN)
    request_context.note_audit_write()
    return entry


def _entry_values(
    *, actor: Any, action: str, obj: models.Model | None, object_type: str, object_id: str | int,
    object_repr: str, changes: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The fields of an entry apart from its place in the chain (seq and hashes)."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)
    context = request_context.current()
    actor_id, actor_label = _actor_fields(actor)
    return {
        "occurred_at": timezone.now(), "actor_id": actor_id, "actor_label": actor_label[:254], "action": action,
        "object_type": object_type, "object_id": str(object_id)[:64], "object_repr": object_repr[:300],
        "changes": _plain(dict(changes or {})), "request_id": context.request_id, "ip_address": context.ip_address,
    }


def _pending_sql(values: Mapping[str, Any], sql_values: Mapping[str, str]) -> tuple[list[str], list[str], list[Any]]:
    """(quoted columns, value expressions, params) of a pending entry: `values` prepared by
    their model fields, `sql_values` SQL expressions supplied by the caller."""
    qn = connection.ops.quote_name
    columns, expressions, params = [], [], []
    for f in PendingAuditEntry._meta.concrete_fields:
        if f.primary_key:
            continue
        columns.append(qn(f.column))
        if f.attname in sql_values:
            expressions.append(sql_values[f.attname])
        else:
            expressions.append("%s")
            params.append(f.get_db_prep_save(values.get(f.attname, f.get_default()), connection))
    return columns, expressions, params


def record_pending(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    object_repr: str = "",
    changes: Mapping[str, Any] | None = None,
) -> None:
    """Write an entry inside the caller's transaction without taking the chain head's lock;
    `chain_pending` links it into the chain soon after (see `PendingAuditEntry`).

    For the paths many residents hit at once: their transactions then do not queue behind
    one another on the head until each commits. The entry is as durable as the caller's write.
    """
    values = _entry_values(actor=actor, action=action, obj=obj, object_type=object_type, object_id=object_id,
                           object_repr=object_repr, changes=changes)
    columns, expressions, params = _pending_sql(values, {})
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {connection.ops.quote_name(PendingAuditEntry._meta.db_table)} "
            f"({', '.join(columns)}) VALUES ({', '.join(expressions)})",
            params,
        )
    request_context.note_audit_write()


def pending_insert_sql(
    *, actor: Any, action: str, object_type: str, changes: Mapping[str, Any] | None, select_from: str,
    object_id_sql: str, object_repr_sql: str,
) -> tuple[str, list[Any]]:
    """``INSERT … SELECT … FROM select_from`` writing a pending entry whose object id and label
    are SQL expressions over `select_from` (e.g. a row just inserted, in a data-modifying
    ``WITH`` on PostgreSQL): the whole write, audit included, can then be one statement."""
    values = _entry_values(actor=actor, action=action, obj=None, object_type=object_type, object_id="",
                           object_repr="", changes=changes)
    columns, expressions, params = _pending_sql(
        values, {"object_id": f"({object_id_sql})", "object_repr": f"({object_repr_sql})"}
    )
    table = connection.ops.quote_name(PendingAuditEntry._meta.db_table)
    sql = f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(expressions)} FROM {select_from}"
    return sql, params


def _chain_batch(limit: int) -> int:
    """Link up to `limit` pending entries, oldest first, after the chain's head; in the caller's
    transaction. Returns how many were linked."""
    seq, prev_hash = _take_next_seq(advance=False)
    pending = list(PendingAuditEntry.objects.order_by("id")[:limit])
    if not pending:
        return 0
    entries = []
    for row in pending:
        seq += 1
        entry = AuditEntry(
            seq=seq, occurred_at=row.occurred_at, actor_id=row.actor_id, actor_label=row.actor_label,
            action=row.action, object_type=row.object_type, object_id=row.object_id, object_repr=row.object_repr,
            changes=row.changes, request_id=row.request_id, ip_address=row.ip_address, prev_hash=prev_hash,
        )
        entry.entry_hash = prev_hash = compute_hash(entry)
        entries.append(entry)
    AuditEntry.objects.bulk_create(entries, batch_size=500)
    PendingAuditEntry.objects.filter(id__in=[row.id for row in pending]).delete()
    AuditChainHead.objects.filter(id=1).update(last_seq=seq, last_hash=prev_hash)
    return len(entries)


def chain_pending(*, batch_size: int = CHAIN_BATCH) -> int:
    """Link every pending entry into the chain, a batch per transaction; returns how many.

    Safe to run from several processes at once: each batch holds the head's lock.
    """
    linked = 0
    while PendingAuditEntry.objects.exists():
        with transaction.atomic():
            n = _chain_batch(batch_size)
        linked += n
        if n == 0:
            break
    return linked


def pending_count() -> int:
    return PendingAuditEntry.objects.count()


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    count: int
    seq: int | None = None
    problem: str = ""

    def message(self) -> str:
        if self.ok:
            return f"OK {self.count} entries"
        return f"NG entry {self.seq}: {self.problem}"


def verify_chain(batch_size: int = 2000) -> VerifyResult:
    """Walk the whole chain; report the first altered, removed or inserted entry.

    Pending entries are linked first, so everything written so far is verified.
    """
    chain_pending()
    expected_prev = GENESIS
    expected_seq = 1
    count = 0
    for entry in AuditEntry.objects.order_by("seq").iterator(chunk_size=batch_size):
        if entry.seq != expected_seq:
            if entry.seq > expected_seq:
                return VerifyResult(False, count, expected_seq, "removed (missing from the chain)")
            return VerifyResult(False, count, entry.seq, "inserted (sequence out of order)")
        if entry.prev_hash != expected_prev:
            return VerifyResult(
                False, count, entry.seq,
                "does not link to the previous entry (an entry before it was removed, "
                "inserted or altered)",
            )
        if not hmac.compare_digest(compute_hash(entry), entry.entry_hash):
            return VerifyResult(False, count, entry.seq, "altered (hash mismatch)")
        expected_prev = entry.entry_hash
        expected_seq += 1
        count += 1
    head = AuditChainHead.objects.filter(id=1).first()
    if head is not None and (head.last_seq != count or (count and head.last_hash != expected_prev)):
        if head.last_seq > count:
            return VerifyResult(False, count, count + 1, "removed (entries missing at the end)")
        return VerifyResult(False, count, head.last_seq + 1, "inserted (entries after the recorded head)")
    if head is None and count:
        return VerifyResult(False, count, count, "chain head missing")
    return VerifyResult(True, count)


EXPORT_FIELDS = [
    "seq", "occurred_at", "actor_id", "actor_label", "action", "object_type", "object_id",
    "object_repr", "changes", "request_id", "ip_address", "prev_hash", "entry_hash",
]


def _export_rows(since: date | datetime | None) -> Iterator[dict[str, Any]]:
    chain_pending()
    qs = AuditEntry.objects.order_by("seq")
    if since is not None:
        if not isinstance(since, datetime):
            since = timezone.make_aware(datetime.combine(since, datetime.min.time()))
        qs = qs.filter(occurred_at__gte=since)
    for entry in qs.iterator(chunk_size=2000):
        row = {name: getattr(entry, name) for name in EXPORT_FIELDS}
        row["occurred_at"] = timezone.localtime(entry.occurred_at).isoformat()
        yield row


def export(out: IO[str], *, since: date | datetime | None, fmt: str) -> int:
    """Write entries (csv with a header, or jsonl) to `out`; return how many."""
    n = 0
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS)
        writer.writeheader()
        for row in _export_rows(since):
            row["changes"] = json.dumps(row["changes"], ensure_ascii=False, sort_keys=True)
            writer.writerow(row)
            n += 1
    elif fmt == "jsonl":
        for row in _export_rows(since):
            out.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
            n += 1
    else:
        raise ValueError(f"unknown format {fmt!r}")
    return n
