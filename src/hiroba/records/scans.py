"""Running a share scan and keeping what it found: the inventory (for the next, incremental
scan), the findings (proposals for the records manager), and the report's figures. Nothing on
the share is ever moved, renamed or deleted."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from django.db import connection, transaction
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
from hiroba.records.models import InventoryFile, RecordFile, Scan, ScanFinding
from hiroba.records.scanner import HASH_WORKERS, Entry, Result, Scanner, no_gc
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
             progress: Callable[[int, int], None] | None = None, workers: int | None = None) -> tuple[Scan, Result]:
    """Scan `path` with the guideline in force and store the result (one transaction)."""
    user = Actor.of(actor).user
    if user is not None and not (access.OFFICE.is_office(user, Role.HANDLE) if department is None
                                 else access.OFFICE.has_role(user, department.pk, Role.HANDLE)):
        raise NotAllowed(_("共有フォルダを点検する権限がありません。"))
    root = allowed_root(path)
    rules, zones, stale_days, guideline = guidelines.rules_in_force()
    with no_gc():
        return _scan(actor, root, department, rules, zones, stale_days, guideline, progress, workers)


def _scan(actor: ActorLike, root: str, department: Department | None, rules: Any, zones: Any, stale_days: int,
          guideline: Any, progress: Callable[[int, int], None] | None, workers: int | None) -> tuple[Scan, Result]:
    previous = previous_inventory(root)
    existing = current_findings(root)
    scanner = Scanner(root, rules=rules, zones=zones, stale_days=stale_days, expired_folders=expired_folders(department),
                      previous=previous, naming=known_naming(root, rules, existing), progress=progress,
                      workers=workers or HASH_WORKERS)
    started = timezone.now()
    result = scanner.run()
    with transaction.atomic():
        scan = _store(result, root=root, department=department, guideline=guideline, started=started,
                      previous=previous, existing=existing, stale_days=stale_days, rules_digest=rules.digest)
        audit.record(actor=who(actor), action=actions.SCAN_RUN, obj=scan,
                     changes={"root": root, "files": result.files, "bytes": result.bytes,
                              "duplicates": len(result.duplicates), "violations": len(result.violations),
                              "stale": len(result.stale), "errors": len(result.errors), "hashed": result.hashed})
    return scan, result


def _store(result: Result, *, root: str, department: Department | None, guideline: Any, started: Any,
           previous: dict[str, Entry], existing: dict[FindingKey, int], stale_days: int, rules_digest: str) -> Scan:
    chunk = conf.get("RECORDS_SCAN_CHUNK")
    entries = result.entries
    dup_bytes = sum(entries[g[0]][0] * (len(g) - 1) for g in result.duplicates)
    scan = Scan.objects.create(
        root=root, department=department, guideline=guideline, started_at=started, finished_at=timezone.now(),
        seconds=round(result.seconds, 3), files=result.files, folders=result.folders, bytes=result.bytes,
        hashed=result.hashed, duplicate_sets=len(result.duplicates), duplicate_bytes=dup_bytes,
        violation_count=len(result.violations), stale_count=len(result.stale), error_count=len(result.errors),
        capacity={"folder": _top(result.capacity_folder, 30), "type": _top(result.capacity_type, 20),
                  "age": dict(result.capacity_age), "zone": dict(result.capacity_zone)},
        duplicates=result.duplicates[:5000], errors=result.errors[:5000], rules_digest=rules_digest)
    # The findings: the root's current ones are kept, the new ones added, the gone ones removed.
    stale_message = f"{stale_days}日以上更新されていない作業用ファイル"
    found = {(v.kind, v.path[:PATH_MAX], v.rule, v.message[:MESSAGE_MAX], v.suggestion[:PATH_MAX]): None
             for v in result.violations}
    found.update({(ScanFinding.Kind.STALE, p[:PATH_MAX], "stale_work_file", stale_message, ""): None
                  for p in result.stale})
    gone_findings = [pk for key, pk in existing.items() if key not in found]
    for i in range(0, len(gone_findings), 900):
        ScanFinding.objects.filter(pk__in=gone_findings[i:i + 900]).delete()
    insert_rows(ScanFinding, ["scan", "root", "kind", "path", "rule", "message", "suggestion"],
                [(scan.pk, root, *key) for key in found if key not in existing], size=chunk)
    # The inventory, kept up to date in place: only the rows of removed, new and changed (or
    # newly hashed) files are written.
    gone = [path for path in previous.keys() - entries.keys()]
    for i in range(0, len(gone), 500):
        InventoryFile.objects.filter(root=root, path__in=gone[i:i + 500]).delete()
    new: list[tuple[str, str, int, int, str, str]] = []
    changed: list[tuple[int, int, str, str, str, str]] = []
    changed_paths = result.changed
    for path, (size, mtime, partial, full) in entries.items():  # in the walk's order (not the set's):
        if path not in changed_paths:  # SQLite's index takes rows in a random order far more slowly
            continue
        if path in previous:
            changed.append((size, mtime, partial, full, root, path))
        else:
            new.append((root, path[:PATH_MAX], size, mtime, partial, full))
    if changed:
        sets = ", ".join(f"{column(InventoryFile, f)} = %s" for f in ("size", "mtime_ns", "partial_hash", "full_hash"))
        where = f"{column(InventoryFile, 'root')} = %s AND {column(InventoryFile, 'path')} = %s"
        table = connection.ops.quote_name(InventoryFile._meta.db_table)
        with connection.cursor() as cursor:
            for i in range(0, len(changed), chunk):
                cursor.executemany(f"UPDATE {table} SET {sets} WHERE {where}", changed[i:i + chunk])  # nosec B608
    insert_rows(InventoryFile, ["root", "path", "size", "mtime_ns", "partial_hash", "full_hash"], new, size=chunk)
    return scan


def _top(data: dict[str, int], n: int) -> dict[str, int]:
    return dict(sorted(data.items(), key=lambda kv: -kv[1])[:n])
