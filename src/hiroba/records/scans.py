"""Running a share scan and keeping what it found: the inventory (for the next, incremental
scan), the findings (proposals for the records manager), and the report's figures. Nothing on
the share is ever moved, renamed or deleted."""

from __future__ import annotations

import hashlib
import json
import os
import time
import zlib
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import astuple, dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from hiroba.accounts.models import Role
from hiroba.core import audit
from hiroba.core.actors import Actor, ActorLike
from hiroba.core.bulk import column, insert_rows
from hiroba.core.errors import NotAllowed, ServiceError
from hiroba.core.models import Department
from hiroba.records import access, conf, guidelines
from hiroba.records import audit_actions as actions
from hiroba.records.models import InventoryFile, RecordFile, Scan, ScanFinding, ScanState, ShareChange, ShareWatch
from hiroba.records.scanner import (
    AGE_LABELS,
    HASH_WORKERS,
    PARTIAL,
    Entry,
    Finding,
    Result,
    Scanner,
    age_limits,
    group_key,
    no_gc,
    type_of,
)
from hiroba.records.services import who


def allowed_root(path: str) -> str:
    """The real path of a folder the scanner may read, or a ServiceError."""
    real = os.path.realpath(path)
    roots = [os.path.realpath(r) for r in conf.get("RECORDS_SCAN_ROOTS")]
    if roots and not any(real == r or real.startswith(r.rstrip(os.sep) + os.sep) for r in roots):
        raise ServiceError(format_lazy(_("{path} は点検できるフォルダ（RECORDS_SCAN_ROOTS）の外です。"), path=path),
                           code="root_not_allowed")
    if not os.path.isdir(real):
        raise ServiceError(format_lazy(_("フォルダ {path} がありません。"), path=path), code="root_missing")
    if not os.access(real, os.R_OK | os.X_OK):
        raise ServiceError(format_lazy(_("フォルダ {path} を読めません。"), path=path), code="root_unreadable")
    return real


def previous_inventory(root: str) -> dict[str, Entry]:
    """The root's inventory as the last scan left it: path → (size, mtime_ns, partial, full),
    read as plain tuples (no model instance per row)."""
    table = connection.ops.quote_name(InventoryFile._meta.db_table)
    cols = ", ".join(column(InventoryFile, f) for f in ("path", "size", "mtime_ns", "partial_hash", "full_hash"))
    # `+root` keeps SQLite from the (root, path) index when the root's rows are most of the table:
    # a look-up in the table per row through the index took 3× a plain scan of it
    where = ("+" if connection.vendor == "sqlite" and _most_of_inventory(root) else "") + column(InventoryFile, "root")
    out: dict[str, Entry] = {}
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {cols} FROM {table} WHERE {where} = %s", [root])  # nosec B608
        while rows := cursor.fetchmany(20000):
            out.update({row[0]: row[1:] for row in rows})
    return out


PATH_MAX, MESSAGE_MAX = 1000, 500  # the columns' lengths (ScanFinding.path and .suggestion, .message)


def _most_of_inventory(root: str) -> bool:
    """Whether `root` holds at least half of the inventory's files, by the latest scan of each root."""
    latest: dict[str, int] = {}
    for r, files in Scan.objects.order_by("started_at", "id").values_list("root", "files"):
        latest[r] = files
    return latest.get(root, 0) * 2 >= sum(latest.values())


FindingKey = tuple[str, str, str, str, str]  # kind, path, rule, message, suggestion (as stored)


def current_findings(root: str) -> dict[FindingKey, int]:
    """The root's findings as the last scan left them (key → id), in the order they were stored."""
    table = connection.ops.quote_name(ScanFinding._meta.db_table)
    cols = ", ".join(column(ScanFinding, f) for f in ("id", "kind", "path", "rule", "message", "suggestion"))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {cols} FROM {table} WHERE {column(ScanFinding, 'root')} = %s ORDER BY 1",  # nosec B608
                       [root])
        return {(kind, path, rule, message, suggestion): pk for pk, kind, path, rule, message, suggestion in
                cursor.fetchall()}


def known_naming(root: str, rules: Any, existing: dict[FindingKey, int]) -> dict[str, list[tuple[str, str, str]] | None] | None:
    """The naming results the previous scan stored (path → [(rule, message, suggestion)] in the
    order `Rules.check` gives them), when it checked with the same rules; None otherwise. A path
    with a value that may have been cut to its column's length maps to None: checked again."""
    last = Scan.objects.filter(root=root).order_by("-started_at", "-id").values_list("rules_digest", flat=True).first()
    if not last or last != rules.digest:
        return None
    known: dict[str, list[tuple[str, str, str]] | None] = {}
    for kind, path, rule, message, suggestion in existing:
        if kind != ScanFinding.Kind.NAMING:
            continue
        if len(path) >= PATH_MAX or len(message) >= MESSAGE_MAX or len(suggestion) >= PATH_MAX:
            known[path] = None
            continue
        found = known.setdefault(path, [])
        if found is not None:
            found.append((rule, message, suggestion))
    for found in known.values():
        if found is not None and len(found) > 1:
            found.sort(key=lambda f: rules.order(f[0]))
    return known


def expired_folders(department: Department | None) -> dict[str, str]:
    """Share folders of register files past their period (relative path → the file's name)."""
    qs = RecordFile.objects.filter(state=RecordFile.State.ACTIVE, expiry_date__lt=timezone.localdate()).exclude(
        share_path="")
    if department is not None:
        qs = qs.filter(department=department)
    return dict(qs.values_list("share_path", "name"))


def run_scan(*, actor: ActorLike, path: str, department: Department | None = None,
             progress: Callable[[int, int], None] | None = None, workers: int | None = None,
             findings: bool = True) -> tuple[Scan, Result]:
    """Scan `path` with the guideline in force and store the result (one transaction). With a
    watcher journaling the root since the previous scan began (`hiroba records watch`), only the
    paths it journaled are looked at (`_rescan`); otherwise every file is walked. `findings=False`:
    such a re-scan does not read the lists of findings back (the Scan row has their counts; the
    rows are ScanFinding's), only a walk gives them for free."""
    user = Actor.of(actor).user
    if user is not None and not (access.OFFICE.is_office(user, Role.HANDLE) if department is None
                                 else access.OFFICE.has_role(user, department.pk, Role.HANDLE)):
        raise NotAllowed(_("共有フォルダを点検する権限がありません。"))
    root = allowed_root(path)
    rules, zones, stale_days, guideline = guidelines.rules_in_force()
    with no_gc():
        return _scan(actor, root, department, rules, zones, stale_days, guideline, progress, workers, findings)


# --- the change journal ---------------------------------------------------------------------

STATE_VERSION = 1
JOURNAL_WAIT = 2.0  # seconds a scan waits for the watcher to write what the kernel queued before it began
JOURNAL_SHARE = 0.2  # a journal naming more than this share of the files: walking every file is cheaper


@dataclass(frozen=True)
class Position:
    """Where a root's change journal stood when a scan began: the watcher's run and its last change."""

    epoch: str
    mark: int
    overflowed_at: Any


def journal_position(root: str) -> Position | None:
    """The journal's position once the watcher of `root` has written every change queued before
    this call; None without a ready watcher, or when it did not catch up within JOURNAL_WAIT
    (stopped, killed, or far behind: the scan then walks every file)."""
    began = timezone.now()
    deadline = time.monotonic() + JOURNAL_WAIT
    while True:
        watch = ShareWatch.objects.filter(root=root).first()
        if watch is None or watch.stopped_at is not None or watch.ready_at is None:
            return None
        if watch.drained_at is not None and watch.drained_at >= began:
            break
        if ((watch.drained_at is not None and watch.drained_at < began - timedelta(seconds=10))
                or time.monotonic() > deadline):
            return None  # not written for 10 s: the watcher is not running
        time.sleep(0.01)
    mark = ShareChange.objects.filter(root=root).aggregate(m=Max("id"))["m"] or 0
    return Position(watch.epoch, mark, watch.overflowed_at)


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, ensure_ascii=False, sort_keys=True, default=str).encode()).hexdigest()


def _conditions(rules: Any, zones: Any, stale_days: int, expired: dict[str, str]) -> dict[str, Any]:
    """What a scan's figures depend on besides the files: a re-scan from the journal needs them unchanged."""
    return {"rules": rules.digest, "zones": _digest(sorted((k, astuple(z)) for k, z in zones.items())),
            "stale_days": stale_days, "expired": _digest(sorted(expired.items()))}


def _journaled(root: str, state: ScanState, position: Position | None, conditions: dict[str, Any],
               now_ns: int) -> list[str] | None:
    """The paths to look at when the journal may stand in for a walk; None when it may not."""
    data = state.data
    if (position is None or data.get("v") != STATE_VERSION or data.get("epoch") != position.epoch
            or data.get("conditions") != conditions or data.get("native")
            or now_ns < data.get("now_ns", 0)):
        return None
    began = datetime.fromisoformat(data["began"])
    if position.overflowed_at is not None and position.overflowed_at >= began:
        return None  # the kernel dropped changes since the previous scan began
    latest = Scan.objects.filter(root=root).order_by("-started_at", "-id").values_list("pk", flat=True).first()
    if latest != state.scan_id:
        return None
    paths = set(ShareChange.objects.filter(root=root, id__gt=data["mark"], id__lte=position.mark)
                .values_list("path", flat=True))
    paths.update(ShareWatch.objects.filter(root=root).values_list("blind", flat=True).first() or [])
    if len(paths) > max(1000, data["files"] * JOURNAL_SHARE):
        return None
    if any("/" not in p or "\\x" in p for p in paths):
        return None  # a folder of the root itself (the zones may change) or a name not UTF-8
    return sorted(paths)


def _capacity(result: Result) -> dict[str, dict[str, list[int]]]:
    """The capacity figures with the files each counts: {"folder": {key: [bytes, files]}, …}."""
    def both(sizes: dict[str, int], counts: dict[str, int]) -> dict[str, list[int]]:
        return {k: [sizes[k], n] for k, n in counts.items() if n}

    return {"folder": both(result.capacity_folder, result.count_folder),
            "type": both(result.capacity_type, result.count_type),
            "zone": both(result.capacity_zone, result.count_zone),
            "department": both(result.capacity_department, result.count_department),
            "age": both(result.capacity_age, result.count_age)}


def _state(result: Result, position: Position | None, began: Any, now_ns: int, conditions: dict[str, Any],
           capacity: dict[str, dict[str, list[int]]]) -> dict[str, Any]:
    """The scan state a re-scan from the journal continues from (ScanState.data)."""
    return {
        "v": STATE_VERSION, "epoch": position.epoch if position else None, "mark": position.mark if position else 0,
        "began": began.isoformat(), "now_ns": now_ns, "conditions": conditions, "level": result.zone_level,
        "native": bool(result.native), "files": result.files, "bytes": result.bytes,
        "folders": result.folder_paths, "groups": result.groups, "errors": result.errors, "capacity": capacity,
    }


def _prune(root: str, position: Position | None) -> None:
    """Journal rows a scan has looked past are not needed again."""
    if position is not None:
        ShareChange.objects.filter(root=root, id__lte=position.mark).delete()


BULK = ("folders", "groups", "errors", "capacity")


def _save_state(root: str, scan: Scan, data: dict[str, Any]) -> None:
    bulk = zlib.compress(json.dumps({k: data.pop(k) for k in BULK}, ensure_ascii=False).encode(), 1)
    ScanState.objects.update_or_create(root=root, defaults={"scan": scan, "data": data, "bulk": bulk})


def _load_state(state: ScanState) -> dict[str, Any]:
    """The whole state: `data` with the large part put back."""
    return {**state.data, **json.loads(zlib.decompress(state.bulk))} if state.bulk else dict(state.data)


# --- a scan ---------------------------------------------------------------------------------

def _scan(actor: ActorLike, root: str, department: Department | None, rules: Any, zones: Any, stale_days: int,
          guideline: Any, progress: Callable[[int, int], None] | None, workers: int | None,
          findings: bool = True) -> tuple[Scan, Result]:
    position = journal_position(root)  # before any file is looked at
    started = timezone.now()
    expired = expired_folders(department)
    conditions = _conditions(rules, zones, stale_days, expired)
    state = ScanState.objects.filter(root=root).first() if position is not None else None
    if state is not None and position is not None:
        scanner = Scanner(root, rules=rules, zones=zones, stale_days=stale_days, expired_folders=expired,
                          workers=workers or HASH_WORKERS)
        paths = _journaled(root, state, position, conditions, scanner.now_ns)
        if paths is not None:
            return _rescan(actor, scanner, state, paths, root=root, department=department, guideline=guideline,
                           started=started, position=position, conditions=conditions, rules_digest=rules.digest,
                           findings=findings)
    previous = previous_inventory(root)
    existing = current_findings(root)
    scanner = Scanner(root, rules=rules, zones=zones, stale_days=stale_days, expired_folders=expired,
                      previous=previous, naming=known_naming(root, rules, existing), progress=progress,
                      workers=workers or HASH_WORKERS)
    result = scanner.run()
    with transaction.atomic():
        scan = _store(result, root=root, department=department, guideline=guideline, started=started,
                      previous=previous, existing=existing, stale_days=stale_days, rules_digest=rules.digest)
        _save_state(root, scan, _state(result, position, started, scanner.now_ns, conditions, _capacity(result)))
        _prune(root, position)
        _audit(actor, scan, result, root)
    return scan, result


def _audit(actor: ActorLike, scan: Scan, result: Result, root: str) -> None:
    audit.record(actor=who(actor), action=actions.SCAN_RUN, obj=scan,
                 changes={"root": root, "files": result.files, "bytes": result.bytes,
                          "duplicates": len(result.duplicates), "violations": result.violation_count,
                          "stale": result.stale_count, "errors": len(result.errors), "hashed": result.hashed,
                          "journal": result.journal})


def _scan_row(result: Result, *, root: str, department: Department | None, guideline: Any, started: Any,
              rules_digest: str) -> Scan:
    dup_bytes = sum(int(key.partition(":")[0]) * (len(paths) - 1) for key, paths in result.groups.items())
    return Scan.objects.create(
        root=root, department=department, guideline=guideline, started_at=started, finished_at=timezone.now(),
        seconds=round(result.seconds, 3), files=result.files, folders=result.folders, bytes=result.bytes,
        hashed=result.hashed, duplicate_sets=len(result.duplicates), duplicate_bytes=dup_bytes,
        violation_count=result.violation_count, stale_count=result.stale_count, error_count=len(result.errors),
        capacity={"folder": _top(result.capacity_folder, 30), "type": _top(result.capacity_type, 20),
                  "age": dict(result.capacity_age), "zone": dict(result.capacity_zone)},
        duplicates=result.duplicates[:5000], errors=result.errors[:5000], rules_digest=rules_digest,
        journal_paths=result.journal)


def _store(result: Result, *, root: str, department: Department | None, guideline: Any, started: Any,
           previous: dict[str, Entry], existing: dict[FindingKey, int], stale_days: int, rules_digest: str) -> Scan:
    chunk = conf.get("RECORDS_SCAN_CHUNK")
    entries = result.entries
    scan = _scan_row(result, root=root, department=department, guideline=guideline, started=started,
                     rules_digest=rules_digest)
    # The findings: the root's current ones are kept, the new ones added, the gone ones removed.
    found = _finding_keys(result.violations, result.stale, stale_days)
    gone_findings = [pk for key, pk in existing.items() if key not in found]
    for i in range(0, len(gone_findings), 900):
        ScanFinding.objects.filter(pk__in=gone_findings[i:i + 900]).delete()
    insert_rows(ScanFinding, ["scan", "root", "kind", "path", "rule", "message", "suggestion"],
                [(scan.pk, root, *key) for key in found if key not in existing], size=chunk)
    # The inventory, kept up to date in place: only the rows of removed, new and changed (or
    # newly hashed) files are written.
    changed_paths = result.changed
    changed: list[tuple[str, Entry]] = []
    new: list[tuple[str, Entry]] = []
    for path, entry in entries.items():  # in the walk's order (not the set's): SQLite's index
        if path in changed_paths:  # takes rows in a random order far more slowly
            (changed if path in previous else new).append((path, entry))
    _write_inventory(root, gone=previous.keys() - entries.keys(), changed=changed, new=new)
    return scan


def _write_inventory(root: str, *, gone: Iterable[str], changed: list[tuple[str, Entry]],
                     new: list[tuple[str, Entry]]) -> None:
    """Remove the rows of `gone` paths, rewrite those of `changed` ones, add `new` ones."""
    chunk = conf.get("RECORDS_SCAN_CHUNK")
    gone = list(gone)
    for i in range(0, len(gone), 500):
        InventoryFile.objects.filter(root=root, path__in=gone[i:i + 500]).delete()
    if changed:
        sets = ", ".join(f"{column(InventoryFile, f)} = %s" for f in ("size", "mtime_ns", "partial_hash", "full_hash"))
        where = f"{column(InventoryFile, 'root')} = %s AND {column(InventoryFile, 'path')} = %s"
        table = connection.ops.quote_name(InventoryFile._meta.db_table)
        updates = [(*entry, root, path) for path, entry in changed]
        with connection.cursor() as cursor:
            for i in range(0, len(updates), chunk):
                cursor.executemany(f"UPDATE {table} SET {sets} WHERE {where}", updates[i:i + chunk])  # nosec B608
    rows = [(root, path[:PATH_MAX], *entry) for path, entry in new]
    with _indexes_rebuilt(InventoryFile, len(rows)):
        insert_rows(InventoryFile, ["root", "path", "size", "mtime_ns", "partial_hash", "full_hash"], rows, size=chunk)


@contextmanager
def _indexes_rebuilt(model: type[Any], adding: int) -> Iterator[None]:
    """When `adding` rows outnumber those the table holds (a share's first scan), its secondary
    indexes are dropped and built again afterwards (in the same transaction): building an index
    sorts its keys once, while inserting a million rows into three indexes in the walk's order
    updated pages all over each (a 200,000-file first scan spent 4.7 s inserting, against 1.6 s
    with the unique index alone). Other sessions wait for the table meanwhile (PostgreSQL locks
    it), as they would wait for the scan's writes anyway."""
    if adding < 10000 or adding < model.objects.count():
        yield
        return
    table = connection.ops.quote_name(model._meta.db_table)
    indexes = [(connection.ops.quote_name(ix.name), ", ".join(column(model, f) for f in ix.fields))
               for ix in model._meta.indexes]
    with connection.cursor() as cursor:
        for name, _cols in indexes:
            cursor.execute(f"DROP INDEX {name}")
    yield
    with connection.cursor() as cursor:
        for name, cols in indexes:
            cursor.execute(f"CREATE INDEX {name} ON {table} ({cols})")


# --- a re-scan from the journal -------------------------------------------------------------

def _by_path(model: type[Any], root: str, fields: tuple[str, ...], paths: list[str]) -> Iterator[tuple[Any, ...]]:
    """`fields` of the root's rows whose path is one of `paths`: on PostgreSQL one query with the
    paths as an array (`= ANY`), on SQLite a query per 500 (an IN list, each looked up in the
    (root, path) index). Unordered."""
    table = connection.ops.quote_name(model._meta.db_table)
    cols = ", ".join(column(model, f) for f in fields)
    where = f"{column(model, 'root')} = %s AND {column(model, 'path')}"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SELECT {cols} FROM {table} WHERE {where} = ANY(%s)", [root, paths])  # nosec B608
            yield from cursor.fetchall()
            return
        for i in range(0, len(paths), 500):
            part = paths[i:i + 500]
            cursor.execute(f"SELECT {cols} FROM {table} WHERE {where} IN ({', '.join(['%s'] * len(part))})",  # nosec B608
                           [root, *part])
            yield from cursor.fetchall()


def _under(model: type[Any], root: str, fields: tuple[str, ...], prefixes: Iterable[str],
           ) -> Iterator[tuple[Any, ...]]:
    """`fields` (the path first) of the root's rows under each folder of `prefixes`."""
    for prefix in prefixes:
        lead = prefix + "/"
        for row in model.objects.filter(root=root, path__startswith=lead).order_by().values_list(*fields):
            if row[0].startswith(lead):  # SQLite's LIKE ignores the case of ASCII letters
                yield row


ROW_FIELDS = ("path", "size", "mtime_ns", "partial_hash", "full_hash")
FINDING_FIELDS = ("path", "kind", "rule", "message", "suggestion", "id")


def _rows(root: str, paths: Iterable[str], prefixes: Iterable[str]) -> dict[str, Entry]:
    """The inventory's rows of `paths` and of every path under the folders `prefixes`."""
    out: dict[str, Entry] = {}
    for path, *entry in _by_path(InventoryFile, root, ROW_FIELDS, list(paths)):
        out[path] = tuple(entry)  # type: ignore[assignment]
    for path, *entry in _under(InventoryFile, root, ROW_FIELDS, prefixes):
        out[path] = tuple(entry)  # type: ignore[assignment]
    return out


def _findings_of(root: str, paths: Iterable[str], prefixes: Iterable[str]) -> dict[FindingKey, int]:
    """The root's current findings on `paths` and under the folders `prefixes` (key → id)."""
    out: dict[FindingKey, int] = {}
    for rows in (_by_path(ScanFinding, root, FINDING_FIELDS, list(paths)),
                 _under(ScanFinding, root, FINDING_FIELDS, prefixes)):
        for path, kind, rule, message, suggestion, pk in rows:
            out[(kind, path, rule, message, suggestion)] = pk
    return out


def _matching(root: str, pairs: set[tuple[int, str]], skip: set[str]) -> dict[str, Entry]:
    """The inventory's files (outside `skip`) with one of the (size, partial hash) `pairs`; a
    partial hash of "" finds the files of that size never hashed (their size was nobody else's).
    Each pair is looked up in the (root, size, partial_hash) index: PostgreSQL joins two arrays
    (`unnest`, one query), SQLite a VALUES list per 400 pairs (with `IN (VALUES …)` it read every
    row of the root)."""
    table = connection.ops.quote_name(InventoryFile._meta.db_table)
    cols = ", ".join(f"i.{column(InventoryFile, f)}" for f in ROW_FIELDS)
    on = (f"i.{column(InventoryFile, 'root')} = %s AND i.{column(InventoryFile, 'size')} = v.column1 "
          f"AND i.{column(InventoryFile, 'partial_hash')} = v.column2")
    out: dict[str, Entry] = {}
    pairs_list = sorted(pairs)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SELECT {cols} FROM unnest(%s::bigint[], %s::text[]) AS v(column1, column2) "  # nosec B608
                           f"JOIN {table} AS i ON {on}", [[p[0] for p in pairs_list], [p[1] for p in pairs_list], root])
            found = cursor.fetchall()
        else:
            found = []
            for i in range(0, len(pairs_list), 400):
                part = pairs_list[i:i + 400]
                values = ", ".join(["(%s, %s)"] * len(part))
                cursor.execute(f"SELECT {cols} FROM (VALUES {values}) AS v JOIN {table} AS i ON {on}",  # nosec B608
                               [*(v for pair in part for v in pair), root])
                found += cursor.fetchall()
    for path, *entry in found:
        if path not in skip:
            out[path] = tuple(entry)  # type: ignore[assignment]
    return out


def _add(figure: dict[str, list[int]], key: str, size: int, n: int) -> None:
    now = figure.setdefault(key, [0, 0])
    now[0] += size
    now[1] += n
    if now[1] <= 0:
        del figure[key]


def _move_figures(scanner: Scanner, capacity: dict[str, dict[str, list[int]]], part: Result, old: dict[str, Entry],
                  affected: set[str], *, root: str, before_ns: int) -> None:
    """The capacity figures ([bytes, files] by key) with the old rows' share taken out and the
    found files' put in. By age, the buckets move with the clock: files that crossed a limit
    since the previous scan (at `before_ns`) move to the next bucket."""
    before = age_limits(before_ns)
    for path, (size, mtime, _p, _f) in old.items():
        parts = path.split("/")
        folder, zone_name, dept, _work, _expired = scanner.place(parts[:-1])
        _add(capacity["folder"], folder, -size, -1)
        _add(capacity["zone"], zone_name, -size, -1)
        _add(capacity["type"], type_of(parts[-1]), -size, -1)
        _add(capacity["age"], AGE_LABELS[bisect_left(before, mtime)], -size, -1)
        if scanner.level:
            _add(capacity["department"], dept, -size, -1)
    crossed: dict[str, tuple[int, int]] = {}
    for low, high in zip(before, scanner.age_limits, strict=True):
        crossed.update((p, (size, mtime)) for p, size, mtime in InventoryFile.objects.filter(
            root=root, mtime_ns__gt=low, mtime_ns__lte=high).values_list("path", "size", "mtime_ns"))
    for path, (size, mtime) in crossed.items():
        if path not in affected:
            _add(capacity["age"], AGE_LABELS[bisect_left(before, mtime)], -size, -1)
            _add(capacity["age"], AGE_LABELS[bisect_left(scanner.age_limits, mtime)], size, 1)
    for name, sizes, counts in (("folder", part.capacity_folder, part.count_folder),
                                ("age", part.capacity_age, part.count_age),
                                ("zone", part.capacity_zone, part.count_zone),
                                ("type", part.capacity_type, part.count_type),
                                ("department", part.capacity_department, part.count_department)):
        for key, n in counts.items():
            _add(capacity[name], key, sizes[key], n)


def _read(scanner: Scanner, part: Result, entries: dict[str, Entry], paths: list[str], *,
          partial: bool) -> dict[str, Entry]:
    """`entries` of `paths` with the hash read (partial or full); errors and counts into `part`."""
    probe = Result(root=scanner.root, entries={p: entries[p] for p in paths})
    scanner._hash(probe, paths, partial=partial)
    part.errors += probe.errors
    part.hashed += probe.hashed
    return probe.entries


def _regroup(scanner: Scanner, groups: dict[str, list[str]], part: Result, old: dict[str, Entry],
             affected: set[str], *, root: str) -> dict[str, Entry]:
    """The duplicate groups with the affected files taken out, and each group a new or changed
    file belongs to found again (by size and partial hash in the inventory, then the full hash
    over 64 KB). Returns the unaffected files whose hashes it had to read (their rows to write)."""
    new = part.entries
    for path, (size, _mtime, partial, full) in old.items():
        key = group_key(size, partial, full)
        if key is not None and key in groups:
            members = [p for p in groups[key] if p != path]
            if len(members) > 1:
                groups[key] = members
            else:
                del groups[key]
    todo = [p for p, e in new.items() if e[0] > 0 and not e[2]]
    scanner._hash(part, todo, partial=True)  # every new or changed file (not empty): its partial hash
    candidates = {p: e for p, e in new.items() if e[0] > 0 and e[2]}
    others = _matching(root, {(e[0], e[2]) for e in candidates.values()} | {(e[0], "") for e in candidates.values()},
                       skip=affected)
    hashed_others: dict[str, Entry] = {}
    unhashed = [p for p, e in others.items() if not e[2]]
    if unhashed:  # files of that size nobody shared before: read now
        others.update(_read(scanner, part, others, unhashed, partial=True))
        hashed_others.update((p, others[p]) for p in unhashed if others[p][2])
    by_partial: dict[tuple[int, str], list[str]] = {}
    pool = {**others, **candidates}
    for p, e in pool.items():
        if e[2]:
            by_partial.setdefault((e[0], e[2]), []).append(p)
    wanted = {(e[0], e[2]) for e in candidates.values()}
    need_full = [p for pair in wanted for p in by_partial.get(pair, ()) if pair[0] > PARTIAL
                 and len(by_partial[pair]) > 1 and not pool[p][3]]
    if need_full:
        pool.update(_read(scanner, part, pool, need_full, partial=False))
        for p in need_full:
            if p in new:
                new[p] = pool[p]
                part.changed.add(p)
            elif pool[p][3]:
                hashed_others[p] = pool[p]
    for pair in wanted:
        members = by_partial.get(pair, [])
        if len(members) < 2:
            continue
        by_key: dict[str, list[str]] = {}
        for p in members:
            joined = group_key(pool[p][0], pool[p][2], pool[p][3])
            if joined is not None:
                by_key.setdefault(joined, []).append(p)
        for key, paths_ in by_key.items():
            if len(paths_) > 1:
                groups[key] = paths_
    return hashed_others


def _rescan(actor: ActorLike, scanner: Scanner, state: ScanState, paths: list[str], *, root: str,
            department: Department | None, guideline: Any, started: Any, position: Position,
            conditions: dict[str, Any], rules_digest: str, findings: bool) -> tuple[Scan, Result]:
    """The previous scan's figures, with those of the journaled paths taken out and put back as
    the files are now: each path looked at alone (a folder walked whole), only its rows read and
    written, and the duplicate groups it could join or leave found by size and partial hash.
    Gives what a whole walk would (tests/records/test_journal.py checks it does)."""
    t0 = time.perf_counter()
    data = _load_state(state)
    part = scanner.look(paths, zone_level=data["level"])
    known_folders = set(data["folders"])
    prefixes = sorted(p for p in part.gone if p in known_folders)
    old = _rows(root, paths, prefixes)
    new = part.entries
    affected = old.keys() | new.keys()
    # new and changed files: the previous hashes hold while size and mtime do
    for path, entry in list(new.items()):
        prev = old.get(path)
        if prev is not None and prev[:2] == entry[:2]:
            new[path] = prev
            part.changed.discard(path)
    capacity = data["capacity"]
    _move_figures(scanner, capacity, part, old, affected, root=root, before_ns=data["now_ns"])
    under = tuple(p + "/" for p in prefixes)
    folders = [f for f in data["folders"] if f not in part.gone and not f.startswith(under)]
    folders = list(dict.fromkeys([*folders, *part.folder_paths]))
    groups: dict[str, list[str]] = data["groups"]
    hashed_others = _regroup(scanner, groups, part, old, affected, root=root)
    # --- errors: those of the affected paths are replaced
    looked = set(paths)
    errors = [e for e in data["errors"] if e["path"] not in looked and e["path"] not in affected
              and not e["path"].startswith(under)] + part.errors
    # --- findings: those of the affected paths replaced; work files that aged past the limit added
    existing = _findings_of(root, looked | affected, prefixes)
    found = _finding_keys(part.violations, part.stale, data["conditions"]["stale_days"])
    aged_from = data["now_ns"] - data["conditions"]["stale_days"] * 86400 * 10**9
    for path in InventoryFile.objects.filter(root=root, mtime_ns__gte=aged_from, mtime_ns__lt=scanner.stale_before
                                             ).values_list("path", flat=True):
        if path not in affected and scanner.place(path.split("/")[:-1])[3]:
            found.update(_finding_keys((), [path], data["conditions"]["stale_days"]))
    result = Result(root=root, files=data["files"] - len(old) + len(new),
                    bytes=data["bytes"] - sum(e[0] for e in old.values()) + sum(e[0] for e in new.values()),
                    folders=len(folders), entries=new, errors=errors, changed=part.changed, hashed=part.hashed,
                    zone_level=data["level"], folder_paths=folders, groups=groups, journal=len(paths))
    for name, sizes in (("folder", result.capacity_folder), ("zone", result.capacity_zone),
                        ("type", result.capacity_type), ("department", result.capacity_department),
                        ("age", result.capacity_age)):
        sizes.update({k: v[0] for k, v in capacity[name].items()})
    result.duplicates = sorted(sorted(g) for g in groups.values())
    with transaction.atomic():
        _write_inventory(root, gone=old.keys() - new.keys(),
                         changed=[(p, e) for p, e in new.items() if p in old and e != old[p]] + list(hashed_others.items()),
                         new=[(p, e) for p, e in new.items() if p not in old])
        gone_findings = [pk for key, pk in existing.items() if key not in found]
        for i in range(0, len(gone_findings), 900):
            ScanFinding.objects.filter(pk__in=gone_findings[i:i + 900]).delete()
        fresh = [key for key in found if key not in existing]
        n_stale = sum(k[0] == ScanFinding.Kind.STALE for k in fresh)
        if findings:
            result.violations, result.stale = _current(root)  # before this scan's new findings
            result.violations += [Finding(k[1], k[0], k[2], k[3], k[4]) for k in fresh if k[0] != ScanFinding.Kind.STALE]
            result.stale += [k[1] for k in fresh if k[0] == ScanFinding.Kind.STALE]
        else:
            stored = ScanFinding.objects.filter(root=root)
            stale = stored.filter(kind=ScanFinding.Kind.STALE).count() + n_stale
            result.counted = (stored.count() + len(fresh) - stale, stale)
        result.seconds = time.perf_counter() - t0
        scan = _scan_row(result, root=root, department=department, guideline=guideline, started=started,
                         rules_digest=rules_digest)
        insert_rows(ScanFinding, ["scan", "root", "kind", "path", "rule", "message", "suggestion"],
                    [(scan.pk, root, *key) for key in fresh], size=conf.get("RECORDS_SCAN_CHUNK"))
        _save_state(root, scan, _state(result, position, started, scanner.now_ns, conditions, capacity))
        _prune(root, position)
        _audit(actor, scan, result, root)
    return scan, result


def _current(root: str) -> tuple[list[Finding], list[str]]:
    """The root's findings as stored: the violations, and the stale work files."""
    violations: list[Finding] = []
    stale: list[str] = []
    for kind, path, rule, message, suggestion in ScanFinding.objects.filter(root=root).order_by("id").values_list(
            "kind", "path", "rule", "message", "suggestion"):
        if kind == ScanFinding.Kind.STALE:
            stale.append(path)
        else:
            violations.append(Finding(path, kind, rule, message, suggestion))
    return violations, stale


def _finding_keys(violations: Iterable[Finding], stale: Iterable[str], stale_days: int) -> dict[FindingKey, None]:
    """The findings as stored (kind, path, rule, message, suggestion; cut to the columns), in order."""
    stale_message = f"{stale_days}日以上更新されていない作業用ファイル"
    found = {(v.kind, v.path[:PATH_MAX], v.rule, v.message[:MESSAGE_MAX], v.suggestion[:PATH_MAX]): None
             for v in violations}
    found.update({(ScanFinding.Kind.STALE, p[:PATH_MAX], "stale_work_file", stale_message, ""): None for p in stale})
    return found

def _top(data: dict[str, int], n: int) -> dict[str, int]:
    return dict(sorted(data.items(), key=lambda kv: -kv[1])[:n])
