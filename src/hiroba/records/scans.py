"""Running a share scan and keeping what it found: the inventory (for the next, incremental
scan), the findings (proposals for the records manager), and the report's figures. Nothing on
the share is ever moved, renamed or deleted."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from hiroba.accounts.models import Role
from hiroba.core import audit
from hiroba.core.actors import Actor
from hiroba.core.bulk import insert_rows
from hiroba.core.errors import NotAllowed, ServiceError
from hiroba.core.models import Department
from hiroba.records import access, conf, guidelines
from hiroba.records import audit_actions as actions
from hiroba.records.models import InventoryFile, RecordFile, Scan, ScanFinding
from hiroba.records.scanner import HASH_THREADS, Entry, Result, Scanner, no_gc
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


def previous_inventory(root: str) -> dict[str, tuple[int, Entry]]:
    return {path: (pk, Entry(path, size, mtime, partial, full)) for pk, path, size, mtime, partial, full in
            InventoryFile.objects.filter(root=root).values_list("id", "path", "size", "mtime_ns", "partial_hash",
                                                                "full_hash").iterator(chunk_size=20000)}


def expired_folders(department: Department | None) -> dict[str, str]:
    """Share folders of register files past their period (relative path → the file's name)."""
    qs = RecordFile.objects.filter(state=RecordFile.State.ACTIVE, expiry_date__lt=timezone.localdate()).exclude(
        share_path="")
    if department is not None:
        qs = qs.filter(department=department)
    return dict(qs.values_list("share_path", "name"))


def run_scan(*, actor: Any, path: str, department: Department | None = None,
             progress: Callable[[int, int], None] | None = None, threads: int | None = None) -> tuple[Scan, Result]:
    """Scan `path` with the guideline in force and store the result (one transaction)."""
    user = Actor.of(actor).user
    if user is not None and not (access.OFFICE.is_office(user, Role.HANDLE) if department is None
                                 else access.OFFICE.has_role(user, department.pk, Role.HANDLE)):
        raise NotAllowed(_("共有フォルダを点検する権限がありません。"))
    root = allowed_root(path)
    rules, zones, stale_days, guideline = guidelines.rules_in_force()
    with no_gc():
        return _scan(actor, root, department, rules, zones, stale_days, guideline, progress, threads)


def _scan(actor: Any, root: str, department: Department | None, rules: Any, zones: Any, stale_days: int,
          guideline: Any, progress: Callable[[int, int], None] | None, threads: int | None) -> tuple[Scan, Result]:
    previous = previous_inventory(root)
    scanner = Scanner(root, rules=rules, zones=zones, stale_days=stale_days, expired_folders=expired_folders(department),
                      previous={p: e for p, (_pk, e) in previous.items()}, progress=progress,
                      threads=threads or HASH_THREADS)
    started = timezone.now()
    result = scanner.run()
    with transaction.atomic():
        scan = _store(result, root=root, department=department, guideline=guideline, started=started,
                      previous=previous, stale_days=stale_days)
        audit.record(actor=who(actor), action=actions.SCAN_RUN, obj=scan,
                     changes={"root": root, "files": result.files, "bytes": result.bytes,
                              "duplicates": len(result.duplicates), "violations": len(result.violations),
                              "stale": len(result.stale), "errors": len(result.errors), "hashed": result.hashed})
    return scan, result


def _store(result: Result, *, root: str, department: Department | None, guideline: Any, started: Any,
           previous: dict[str, tuple[int, Entry]], stale_days: int) -> Scan:
    chunk = conf.get("RECORDS_SCAN_CHUNK")
    sizes = {e.path: e.size for e in result.entries.values()}
    dup_bytes = sum(sizes[g[0]] * (len(g) - 1) for g in result.duplicates)
    scan = Scan.objects.create(
        root=root, department=department, guideline=guideline, started_at=started, finished_at=timezone.now(),
        seconds=round(result.seconds, 3), files=result.files, folders=result.folders, bytes=result.bytes,
        hashed=result.hashed, duplicate_sets=len(result.duplicates), duplicate_bytes=dup_bytes,
        violation_count=len(result.violations), stale_count=len(result.stale), error_count=len(result.errors),
        capacity={"folder": _top(result.capacity_folder, 30), "type": _top(result.capacity_type, 20),
                  "age": dict(result.capacity_age), "zone": dict(result.capacity_zone)},
        duplicates=result.duplicates[:5000], errors=result.errors[:5000])
    # The findings: the root's current ones are kept, the new ones added, the gone ones removed.
    stale_message = f"{stale_days}日以上更新されていない作業用ファイル"
    found = {(v.kind, v.path[:1000], v.rule, v.message[:500], v.suggestion[:1000]): None for v in result.violations}
    found.update({(ScanFinding.Kind.STALE, p[:1000], "stale_work_file", stale_message, ""): None
                  for p in result.stale})
    existing = {(kind, path, rule, message, suggestion): pk for pk, kind, path, rule, message, suggestion in
                ScanFinding.objects.filter(root=root).values_list("id", "kind", "path", "rule", "message",
                                                                  "suggestion").iterator(chunk_size=20000)}
    gone_findings = [pk for key, pk in existing.items() if key not in found]
    for i in range(0, len(gone_findings), 900):
        ScanFinding.objects.filter(pk__in=gone_findings[i:i + 900]).delete()
    insert_rows(ScanFinding, ["scan", "root", "kind", "path", "rule", "message", "suggestion"],
                [(scan.pk, root, *key) for key in found if key not in existing], size=chunk)
    # The inventory: only what changed since the previous scan is written.
    gone = [pk for path, (pk, _e) in previous.items() if path not in result.entries]
    changed_pks: list[int] = []
    new: list[tuple[str, str, int, int, str, str]] = []
    for path, e in result.entries.items():
        old = previous.get(path)
        if old is not None:
            o = old[1]
            if (o.size, o.mtime_ns, o.partial, o.full) == (e.size, e.mtime_ns, e.partial, e.full):
                continue
            changed_pks.append(old[0])
        new.append((root, path[:1000], e.size, e.mtime_ns, e.partial, e.full))
    stale_pks = gone + changed_pks
    for i in range(0, len(stale_pks), 900):
        InventoryFile.objects.filter(pk__in=stale_pks[i:i + 900]).delete()
    insert_rows(InventoryFile, ["root", "path", "size", "mtime_ns", "partial_hash", "full_hash"], new, size=chunk)
    return scan


def _top(data: dict[str, int], n: int) -> dict[str, int]:
    return dict(sorted(data.items(), key=lambda kv: -kv[1])[:n])
