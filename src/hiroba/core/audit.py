"""The audit log: record every staff write, verify the chain, export for auditors.

Each entry's hash is HMAC-SHA256 (keyed with settings.AUDIT_KEY, which does not live in the
database) over the entry's canonical JSON and the previous entry's hash. Someone with write
access to the database alone can therefore neither alter, remove nor insert an entry without
`verify_chain` noticing.

Entries written *pending* (the residents' hot path, `record_pending`) are numbered without gaps
and carry their own MAC from the moment they are written, so one removed, altered or forged
before the chainer links it is noticed too; and `verify_chain` checks that every row the domain
apps declared (`require_entries`: each submission, application, paper ballot …) has its entry.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import ipaddress
import json
import secrets
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import IO, Any, Final

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models, transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models.fields.files import FieldFile
from django.db.models.functions import Cast
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from hiroba.core import request_context
from hiroba.core.actors import Actor, ActorLike
from hiroba.core.models import AuditChainHead, AuditEntry, PendingAuditCounter, PendingAuditEntry

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
    #: A Django admin log entry of another kind than add, change or delete.
    ADMIN_OTHER: Final = "admin.other"
    MFA_ADDED: Final = "mfa.added"
    MFA_REMOVED: Final = "mfa.removed"
    MFA_RESET: Final = "mfa.reset"
    EMAIL_ADDED: Final = "account.email_added"
    EMAIL_CHANGED: Final = "account.email_changed"
    EMAIL_CONFIRMED: Final = "account.email_confirmed"
    EMAIL_REMOVED: Final = "account.email_removed"
    PASSWORD_CHANGED: Final = "account.password_changed"
    PASSWORD_RESET: Final = "account.password_reset"
    PASSWORD_SET: Final = "account.password_set"
    #: A staff page refused for want of a role (accounts' middleware).
    ACCESS_DENIED: Final = "access.denied"
    #: A staff write through a screen (core's middleware), beside the service's own entry.
    HTTP_WRITE: Final = "http.write"
    THROTTLE_REFUSED: Final = "throttle.refused"


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
    if entry.pending_seq is not None:  # linked from a pending entry: its number and MAC are chained too
        payload.update(pending_seq=entry.pending_seq, pending_nonce=entry.pending_nonce, pending_mac=entry.pending_mac)
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def compute_hash(entry: AuditEntry) -> str:
    return hmac.new(settings.AUDIT_KEY.encode(), canonical(entry), hashlib.sha256).hexdigest()


#: A pending entry's nonce starts with two flags saying what its MAC covers beside the content:
#: the object's id and label ("o", known to Python; "-" when the database assigns them in the
#: writer's own statement, `pending_insert_sql`), and its number ("n"; "-" when the number is
#: taken inside that statement, on PostgreSQL). What a MAC does not cover, `verify_chain` checks
#: otherwise: numbers must be gapless and nonces unique, declared rows must have their entry.
_NONCE_FLAGS = {"on", "-n", "--"}
_PENDING_MAC_CONTEXT = b"hiroba.audit.pending/1\n"
_CONTENT = ["occurred_at", "actor_id", "actor_label", "action", "object_type", "object_id", "object_repr",
            "changes", "request_id", "ip_address"]


def _new_nonce(*, object_covered: bool, seq_covered: bool) -> str:
    return ("o" if object_covered else "-") + ("n" if seq_covered else "-") + secrets.token_hex(16)


def pending_mac(values: Mapping[str, Any], nonce: str, pending_seq: int | None = None) -> str:
    """HMAC (settings.AUDIT_KEY) over a pending entry's content, its random nonce and — as the
    nonce's flags say — its object and its number.

    Written with the entry, by its writer, and kept when the chainer links it: an entry altered,
    forged, renumbered or deleted-and-reinserted in the database before it was linked does not
    match, and a copy of a valid one repeats its nonce.
    """
    payload: dict[str, Any] = {
        "nonce": nonce,
        "occurred_at": values["occurred_at"].astimezone(UTC).isoformat(timespec="microseconds"),
        **{name: values[name] for name in _CONTENT if name not in ("occurred_at", "object_id", "object_repr")},
    }
    if nonce[:1] == "o":
        payload.update(object_id=values["object_id"], object_repr=values["object_repr"])
    if nonce[1:2] == "n":
        payload["pending_seq"] = pending_seq
    message = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    return hmac.new(settings.AUDIT_KEY.encode(), _PENDING_MAC_CONTEXT + message, hashlib.sha256).hexdigest()


def _content(obj: AuditEntry | PendingAuditEntry) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in _CONTENT}


def _pending_mac_ok(obj: AuditEntry | PendingAuditEntry) -> bool:
    nonce, mac = (obj.pending_nonce, obj.pending_mac) if isinstance(obj, AuditEntry) else (obj.nonce, obj.mac)
    if not nonce or not mac or nonce[:2] not in _NONCE_FLAGS:
        return False
    return hmac.compare_digest(pending_mac(_content(obj), nonce, obj.pending_seq), mac)


def _take_pending_seq() -> int:
    """The next pending entry's number; the counter row stays locked until the caller commits,
    so numbers are gapless and become visible in order (see PendingAuditCounter)."""
    table = connection.ops.quote_name(PendingAuditCounter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (id, last_seq) VALUES (1, 1) "  # nosec B608
            f"ON CONFLICT (id) DO UPDATE SET last_seq = {table}.last_seq + 1 RETURNING last_seq"
        )
        return int(cursor.fetchone()[0])


def _actor_fields(actor: ActorLike) -> tuple[int | None, str]:
    if isinstance(actor, Actor):
        return actor.user_id, actor.audit_label
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
        cursor.execute(f"UPDATE {table} SET last_seq = last_seq + {step} WHERE id = 1 RETURNING last_seq, last_hash")  # nosec B608
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
        f"INSERT INTO {qn(AuditEntry._meta.db_table)} ({', '.join(qn(str(f.column)) for f in fields)}) "  # nosec B608
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    head = f"UPDATE {qn(AuditChainHead._meta.db_table)} SET last_hash = %s WHERE id = 1"  # nosec B608
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
    actor: ActorLike,
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
    *, actor: ActorLike, action: str, obj: models.Model | None, object_type: str, object_id: str | int,
    object_repr: str, changes: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The fields of an entry apart from its place in the chain (seq and hashes)."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)
    context = request_context.current()
    actor_id, actor_label = _actor_fields(actor)
    ip = context.ip_address
    if ip:
        try:  # the form the database gives back (e.g. lower-case IPv6), so MACs match on reading
            ip = str(ipaddress.ip_address(ip))
        except ValueError:
            ip = None
    return {
        "occurred_at": timezone.now(), "actor_id": actor_id, "actor_label": actor_label[:254], "action": action,
        "object_type": object_type, "object_id": str(object_id)[:64], "object_repr": object_repr[:300],
        "changes": _plain(dict(changes or {})), "request_id": context.request_id, "ip_address": ip,
    }


def _pending_sql(values: Mapping[str, Any], sql_values: Mapping[str, str]) -> tuple[list[str], list[str], list[Any]]:
    """(quoted columns, value expressions, params) of a pending entry: `values` prepared by
    their model fields, `sql_values` SQL expressions supplied by the caller."""
    qn = connection.ops.quote_name
    columns, expressions, params = [], [], []
    for f in PendingAuditEntry._meta.concrete_fields:
        if f.primary_key:
            continue
        columns.append(qn(str(f.column)))
        if f.attname in sql_values:
            expressions.append(sql_values[f.attname])
        else:
            expressions.append("%s")
            params.append(f.get_db_prep_save(values.get(f.attname, f.get_default()), connection))
    return columns, expressions, params


def record_pending(
    *,
    actor: ActorLike,
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
    nonce = _new_nonce(object_covered=True, seq_covered=True)
    # No savepoint: the number and the row commit together (or neither), and a failure fails the caller.
    with transaction.atomic(savepoint=False):
        seq = _take_pending_seq()
        columns, expressions, params = _pending_sql(
            {**values, "pending_seq": seq, "nonce": nonce, "mac": pending_mac(values, nonce, seq)}, {})
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {connection.ops.quote_name(PendingAuditEntry._meta.db_table)} "  # nosec B608
                f"({', '.join(columns)}) VALUES ({', '.join(expressions)})",
                params,
            )
    request_context.note_audit_write()


def pending_insert_sql(
    *, actor: ActorLike, action: str, object_type: str, changes: Mapping[str, Any] | None, select_from: str,
    object_id_sql: str, object_repr_sql: str,
) -> tuple[str, list[Any]]:
    """``INSERT … SELECT … FROM select_from`` writing a pending entry whose object id and label
    are SQL expressions over `select_from` (e.g. a row just inserted, in a data-modifying
    ``WITH`` on PostgreSQL): the whole write, audit included, can then be one statement.

    On PostgreSQL the entry's number is taken inside that statement (`core_next_pending_audit_seq`,
    a function of core's migrations), so it commits with it. Elsewhere it is taken now, which
    needs the caller's transaction to hold the number until the statement has run.
    """
    values = _entry_values(actor=actor, action=action, obj=None, object_type=object_type, object_id="",
                           object_repr="", changes=changes)
    sql_values = {"object_id": f"({object_id_sql})", "object_repr": f"({object_repr_sql})"}
    if connection.vendor == "postgresql":
        nonce = _new_nonce(object_covered=False, seq_covered=False)
        sql_values["pending_seq"] = "core_next_pending_audit_seq()"
        extra: dict[str, Any] = {"nonce": nonce, "mac": pending_mac(values, nonce)}
    else:
        if not connection.in_atomic_block:
            raise TransactionManagementError("pending_insert_sql needs a transaction outside PostgreSQL")
        seq = _take_pending_seq()
        nonce = _new_nonce(object_covered=False, seq_covered=True)
        extra = {"pending_seq": seq, "nonce": nonce, "mac": pending_mac(values, nonce, seq)}
    columns, expressions, params = _pending_sql({**values, **extra}, sql_values)
    table = connection.ops.quote_name(PendingAuditEntry._meta.db_table)
    sql = f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(expressions)} FROM {select_from}"  # nosec B608
    return sql, params


def _chain_batch(limit: int) -> int:
    """Link up to `limit` pending entries, oldest first, after the chain's head; in the caller's
    transaction. Returns how many were linked."""
    seq, prev_hash = _take_next_seq(advance=False)
    # In number order, which is also the order they became visible in (PendingAuditCounter).
    pending = list(PendingAuditEntry.objects.order_by("pending_seq")[:limit])
    if not pending:
        return 0
    entries = []
    for row in pending:
        seq += 1
        entry = AuditEntry(
            seq=seq, prev_hash=prev_hash, pending_seq=row.pending_seq, pending_nonce=row.nonce, pending_mac=row.mac,
            **_content(row),
        )
        entry.entry_hash = prev_hash = compute_hash(entry)
        entries.append(entry)
    AuditEntry.objects.bulk_create(entries, batch_size=500)
    # Allowed by the trigger only because each row is now in the chain, with the same MAC.
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
class RequiredEntries:
    """Every row of `model` (matching `condition`) must have an entry `action` naming it."""

    model: type[models.Model]
    action: str
    condition: Q | None = None

    @property
    def label(self) -> str:
        return self.model._meta.label_lower


_REQUIRED: dict[tuple[str, str], RequiredEntries] = {}


def require_entries(*, model: type[models.Model], action: str, condition: Q | None = None) -> None:
    """Declare, in a domain app's ``AppConfig.ready()``, that each `model` row (those matching
    `condition`) is written together with an audit entry `action` whose object is that row:
    `verify_chain` then reports any row without one (an entry removed before it was chained,
    or a row written around the service). Keeps core free of imports from the domain apps.
    """
    if not isinstance(model._meta.pk, (models.AutoField, models.BigAutoField, models.IntegerField)):
        raise ImproperlyConfigured(f"require_entries: {model._meta.label} needs an integer primary key")
    _REQUIRED[(model._meta.label_lower, action)] = RequiredEntries(model, action, condition)


def required_entries() -> list[RequiredEntries]:
    return list(_REQUIRED.values())


def missing_entries(requirement: RequiredEntries, *, sample: int = 10) -> tuple[int, list[str]]:
    """(how many rows lack their entry, the first few ids) — one anti-join on the entries' index."""
    entries = AuditEntry.objects.filter(action=requirement.action, object_type=requirement.label,
                                        object_id=Cast(OuterRef("pk"), models.CharField()))
    rows = requirement.model._default_manager.all()
    if requirement.condition is not None:
        rows = rows.filter(requirement.condition)
    missing = rows.filter(~Exists(entries)).order_by("pk")
    return missing.count(), [str(pk) for pk in missing.values_list("pk", flat=True)[:sample]]


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    count: int
    seq: int | None = None
    problem: str = ""

    def message(self) -> str:
        if self.ok:
            return f"OK {self.count} entries"
        if self.seq is None:
            return f"NG: {self.problem}"
        return f"NG entry {self.seq}: {self.problem}"


def _gap(first: int, last: int) -> str:
    numbers = f"{first}" if first == last else f"{first}–{last}"
    return f"pending entries {numbers} missing (removed before they were linked into the chain)"


def verify_chain(batch_size: int = 2000) -> VerifyResult:
    """Walk the whole chain; report the first altered, removed or inserted entry, a pending
    entry removed, altered or forged before it was linked, and any declared row
    (`require_entries`) without its entry.

    Pending entries are linked first, so everything written so far is verified.
    """
    chain_pending()
    counter = PendingAuditCounter.objects.values_list("last_seq", flat=True).filter(id=1).first() or 0
    # Read what is still pending before walking the chain: an entry a concurrent chainer moves
    # meanwhile is then seen twice (once in each), never in neither.
    still_pending = list(PendingAuditEntry.objects.filter(pending_seq__lte=counter).order_by("pending_seq"))
    expected_prev = GENESIS
    expected_seq = 1
    next_pending = 1
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
        if entry.pending_seq is not None:
            if entry.pending_seq > next_pending:
                return VerifyResult(False, count, entry.seq, _gap(next_pending, entry.pending_seq - 1))
            if entry.pending_seq < next_pending:
                return VerifyResult(False, count, entry.seq, f"pending entry {entry.pending_seq} linked twice (inserted)")
            if not _pending_mac_ok(entry):
                return VerifyResult(False, count, entry.seq,
                                    "forged, or altered before it was linked (its pending entry's MAC does not match)")
            next_pending += 1
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
    for row in still_pending:  # written while this ran, or left by a chainer that failed
        if row.pending_seq < next_pending:
            continue  # linked meanwhile, verified above
        if row.pending_seq > next_pending:
            return VerifyResult(False, count, None, _gap(next_pending, row.pending_seq - 1))
        if not _pending_mac_ok(row):
            return VerifyResult(False, count, None, f"pending entry {row.pending_seq} forged or altered (MAC mismatch)")
        next_pending += 1
    if next_pending <= counter:
        return VerifyResult(False, count, None, _gap(next_pending, counter))
    latest = PendingAuditCounter.objects.values_list("last_seq", flat=True).filter(id=1).first() or 0
    if next_pending - 1 > latest:
        return VerifyResult(False, count, None, f"pending entries numbered beyond the counter ({latest}): inserted")
    copied = (AuditEntry.objects.filter(pending_nonce__isnull=False).values("pending_nonce")
              .annotate(n=models.Count("seq")).filter(n__gt=1).values_list("pending_nonce", flat=True)[:1])
    for nonce in copied:
        first, second = AuditEntry.objects.filter(pending_nonce=nonce).order_by("seq").values_list("seq", flat=True)[:2]
        return VerifyResult(False, count, second, f"a copy of entry {first} (same pending nonce): inserted")
    problems = []
    for requirement in required_entries():
        n, ids = missing_entries(requirement)
        if n:
            more = ", …" if n > len(ids) else ""
            problems.append(f"{n} {requirement.label} without their audit entry {requirement.action} "
                            f"(id {', '.join(ids)}{more})")
    if problems:
        return VerifyResult(False, count, None, "; ".join(problems))
    return VerifyResult(True, count)


EXPORT_FIELDS = [
    "seq", "occurred_at", "actor_id", "actor_label", "action", "object_type", "object_id",
    "object_repr", "changes", "request_id", "ip_address", "prev_hash", "entry_hash",
    "pending_seq", "pending_nonce", "pending_mac",
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
