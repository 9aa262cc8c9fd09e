"""Backups that restore: `hiroba backup OUT` and `hiroba restore IN`.

A backup is a folder (or the same folder as one ``.tar`` / ``.tar.gz`` file) holding

* ``manifest.json``: the format, the database engine, when it was taken, the row count of every
  table and the audit-chain anchor (the chain head's number and hash and the pending counter),
  all read in the same snapshot as the dump, and the SHA-256 of every file;
* the database: PostgreSQL as ``pg_dump --format=custom`` taken in that snapshot
  (``--snapshot``), SQLite as a copy made with SQLite's online backup API; both are consistent
  while the site runs and writes;
* ``data/``: the files of ``HIROBA_DATA_DIR`` (uploaded originals under ``media/``, and anything
  else an app keeps there), copied *after* the database snapshot. Files are written before the
  row that names them commits, so every file the dumped rows refer to is in the copy.

Left out on purpose: ``secret_key`` and any key (``HIROBA_AUDIT_KEY`` must never be in a backup
of the data it protects: docs/operations.md §5), ``static/`` (``collectstatic`` rebuilds it),
``metrics/`` (run-time counters) and the live SQLite files. The manifest carries a fingerprint of
the audit key (an HMAC of a constant), so a restore says at once when the key it runs with is not
the one the chain was made with.

`restore` goes into an empty database (no table at all: ``createdb``, not ``migrate``) and an
empty data dir, and refuses anything else unless ``force`` is given. It then checks every
table's row count and the audit anchor against the manifest; ``hiroba audit verify`` walks the
chain itself.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from hiroba.core.errors import ServiceError

FORMAT = "hiroba-backup/1"
MANIFEST = "manifest.json"
DATA = "data"
PG_DUMP = "database.pgdump"
SQLITE_DUMP = "database.sqlite3"
# Never copied from HIROBA_DATA_DIR (top-level names): keys, rebuilt or run-time files.
EXCLUDED = {"secret_key", "static", "metrics", "cluster"}
TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz")


@dataclass(frozen=True)
class BackupResult:
    path: Path
    tables: int
    rows: int
    files: int
    anchor: dict[str, Any]


@dataclass(frozen=True)
class RestoreResult:
    tables: int
    rows: int
    files: int
    anchor: dict[str, Any]
    key_matches: bool


def _engine() -> str:
    return "postgresql" if connection.vendor == "postgresql" else "sqlite"


def key_fingerprint() -> str:
    return hmac.new(settings.AUDIT_KEY.encode(), b"hiroba-backup-audit-key-fingerprint", hashlib.sha256).hexdigest()[:16]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _sqlite_path() -> Path:
    return Path(settings.DATABASES["default"]["NAME"]).resolve()


def _data_files(root: Path, *, skip: set[Path]) -> Iterator[Path]:
    """The files of the data dir a backup holds (and a restore counts as content)."""
    if not root.is_dir():
        return
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if rel.parts[0] in EXCLUDED or not path.is_file() or path.is_symlink():
            continue
        if any(path == s or s in path.parents for s in skip):
            continue
        yield path


def _live_sqlite_files() -> set[Path]:
    if _engine() != "sqlite":
        return set()
    db = _sqlite_path()
    return {db, *(db.with_name(db.name + suffix) for suffix in ("-wal", "-shm", "-journal"))}


def _anchor_from(head: tuple[int, str] | None, counter: int | None, pending: int) -> dict[str, Any]:
    last_seq, last_hash = head or (0, "")
    return {"last_seq": int(last_seq), "last_hash": last_hash, "pending_counter": int(counter or 0),
            "pending": int(pending)}


_ANCHOR_SQL = ("SELECT last_seq, last_hash FROM core_auditchainhead WHERE id = 1",
               "SELECT last_seq FROM core_pendingauditcounter WHERE id = 1",
               "SELECT COUNT(*) FROM core_pendingauditentry")


def _read_anchor(cursor: Any, tables: set[str]) -> dict[str, Any]:
    if not {"core_auditchainhead", "core_pendingauditcounter", "core_pendingauditentry"} <= tables:
        return _anchor_from(None, None, 0)
    cursor.execute(_ANCHOR_SQL[0])
    head = cursor.fetchone()
    cursor.execute(_ANCHOR_SQL[1])
    counter = cursor.fetchone()
    cursor.execute(_ANCHOR_SQL[2])
    return _anchor_from(head, counter[0] if counter else 0, cursor.fetchone()[0])


def _counts(cursor: Any, tables: list[str], quote: Any) -> dict[str, int]:
    counts = {}
    for table in tables:
        cursor.execute(f"SELECT COUNT(*) FROM {quote(table)}")  # nosec B608: a quoted table name from introspection, no value
        counts[table] = int(cursor.fetchone()[0])
    return counts


def _pg_args() -> tuple[list[str], dict[str, str]]:
    db = settings.DATABASES["default"]
    args = ["-h", str(db.get("HOST") or "127.0.0.1"), "-p", str(db.get("PORT") or 5432)]
    if db.get("USER"):
        args += ["-U", db["USER"]]
    env = {**os.environ}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return args, env


def _run(cmd: list[str], env: dict[str, str], what: str) -> None:
    try:
        result = subprocess.run(cmd, env=env, capture_output=True, text=True)  # noqa: S603 (our own arguments)
    except FileNotFoundError as exc:
        raise ServiceError(f"{cmd[0]} が見つかりません（PostgreSQL のクライアントをインストールしてください）。",
                           "backup_tool_missing") from exc
    if result.returncode != 0:
        raise ServiceError(f"{what}に失敗しました: {result.stderr.strip()[-800:]}", "backup_tool_failed")


def _dump_postgresql(target: Path) -> tuple[dict[str, int], dict[str, Any]]:
    """pg_dump inside the snapshot the counts and the anchor are read in."""
    args, env = _pg_args()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        tables = sorted(connection.introspection.table_names(cursor))
        counts = _counts(cursor, tables, connection.ops.quote_name)
        anchor = _read_anchor(cursor, set(tables))
        _run(["pg_dump", *args, "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}",
              "-f", str(target), settings.DATABASES["default"]["NAME"]], env, "pg_dump")
    return counts, anchor


def _dump_sqlite(target: Path) -> tuple[dict[str, int], dict[str, Any]]:
    source = sqlite3.connect(str(_sqlite_path()), timeout=30)
    try:
        dest = sqlite3.connect(str(target))
        with dest:
            source.backup(dest)
        dest.close()
    finally:
        source.close()
    return _sqlite_counts(target)


def _sqlite_counts(path: Path) -> tuple[dict[str, int], dict[str, Any]]:
    conn = sqlite3.connect(str(path))
    try:
        cursor = conn.cursor()
        tables = sorted(r[0] for r in cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"))
        counts = _counts(cursor, tables, lambda name: '"' + name.replace('"', '""') + '"')
        return counts, _read_anchor(cursor, set(tables))
    finally:
        conn.close()


def backup(out: Path) -> BackupResult:
    """Write a backup to `out`: a folder (new or empty), or a file named *.tar, *.tar.gz, *.tgz."""
    out = out.resolve()
    as_tar = out.name.endswith(TAR_SUFFIXES)
    if out.exists() and (as_tar or not out.is_dir() or any(out.iterdir())):
        raise ServiceError(f"出力先 {out} は既に存在します。新しい名前か空のフォルダを指定してください。", "backup_exists")
    data_dir = Path(settings.DATA_DIR)
    with tempfile.TemporaryDirectory(prefix="hiroba-backup-", dir=out.parent if out.parent.exists() else None) as tmp:
        folder = Path(tmp) / "backup"
        folder.mkdir()
        engine = _engine()
        dump = folder / (PG_DUMP if engine == "postgresql" else SQLITE_DUMP)
        counts, anchor = _dump_postgresql(dump) if engine == "postgresql" else _dump_sqlite(dump)
        files: dict[str, str] = {}
        for path in _data_files(data_dir, skip=_live_sqlite_files() | {out, Path(tmp)}):
            rel = path.relative_to(data_dir).as_posix()
            target = folder / DATA / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
            files[rel] = _sha256(target)
        manifest = {
            "format": FORMAT, "engine": engine, "database": dump.name, "database_sha256": _sha256(dump),
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"), "counts": counts, "audit": anchor,
            "audit_key_fingerprint": key_fingerprint(), "files": files,
        }
        (folder / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        if as_tar:
            partial = out.with_name(out.name + ".partial")
            with tarfile.open(partial, "w:gz" if out.name.endswith((".gz", ".tgz")) else "w") as tar:
                for item in sorted(folder.rglob("*")):
                    tar.add(item, arcname=item.relative_to(folder).as_posix(), recursive=False)
            partial.replace(out)
        else:
            out.mkdir(parents=True, exist_ok=True)
            for item in folder.iterdir():
                shutil.move(str(item), out / item.name)
    return BackupResult(out, len(counts), sum(counts.values()), len(files), anchor)


@contextmanager
def _opened(source: Path) -> Iterator[Path]:
    """The backup as a folder (a tar file is unpacked into a temporary one)."""
    if source.is_dir():
        yield source
        return
    if not source.is_file():
        raise ServiceError(f"バックアップ {source} が見つかりません。", "backup_missing")
    with tempfile.TemporaryDirectory(prefix="hiroba-restore-") as tmp:
        try:
            with tarfile.open(source) as tar:
                tar.extractall(tmp, filter="data")
        except (tarfile.TarError, OSError) as exc:
            raise ServiceError(f"バックアップ {source} を読めません: {exc}", "backup_unreadable") from exc
        yield Path(tmp)


def _manifest(folder: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ServiceError(f"バックアップに {MANIFEST} がないか、読めません。", "backup_unreadable") from exc
    if manifest.get("format") != FORMAT:
        raise ServiceError(f"このバックアップの形式（{manifest.get('format')}）には対応していません。", "backup_format")
    return manifest


def database_tables() -> list[str]:
    with connection.cursor() as cursor:
        return sorted(connection.introspection.table_names(cursor))


def data_dir_content() -> list[Path]:
    return list(_data_files(Path(settings.DATA_DIR), skip=_live_sqlite_files()))


def _wipe_database() -> None:
    if _engine() == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA public CASCADE")
            cursor.execute("CREATE SCHEMA public")
        return
    connection.close()
    for path in _live_sqlite_files():
        path.unlink(missing_ok=True)


def _wipe_data_dir() -> None:
    for path in data_dir_content():
        path.unlink()
    root = Path(settings.DATA_DIR)
    for folder in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        if folder.relative_to(root).parts[0] not in EXCLUDED and not any(folder.iterdir()):
            folder.rmdir()


def restore(source: Path, *, force: bool = False) -> RestoreResult:
    with _opened(source.resolve()) as folder:
        manifest = _manifest(folder)
        engine = _engine()
        if manifest["engine"] != engine:
            raise ServiceError(
                f"このバックアップは {manifest['engine']} のものです。{engine} のデータベースには復元できません。",
                "backup_engine")
        dump = folder / manifest["database"]
        if not dump.is_file() or _sha256(dump) != manifest["database_sha256"]:
            raise ServiceError("バックアップのデータベースが欠けているか、壊れています（SHA-256 が一致しません）。",
                               "backup_corrupt")
        for rel, digest in manifest["files"].items():
            path = folder / DATA / rel
            if not path.is_file() or _sha256(path) != digest:
                raise ServiceError(f"バックアップのファイル {rel} が欠けているか、壊れています。", "backup_corrupt")
        if engine == "sqlite":
            _sqlite_path().parent.mkdir(parents=True, exist_ok=True)
        tables, content = database_tables(), data_dir_content()
        if (tables or content) and not force:
            what = []
            if tables:
                what.append(f"データベースにテーブルが {len(tables)} 個あります")
            if content:
                what.append(f"データフォルダ {settings.DATA_DIR} にファイルが {len(content)} 個あります")
            raise ServiceError("復元先が空ではありません（" + "、".join(what) + "）。空のデータベースとデータフォルダに"
                               "復元するか、上書きしてよければ --force を付けてください。", "restore_not_empty")
        if tables:
            _wipe_database()
        if content:
            _wipe_data_dir()
        if engine == "postgresql":
            args, env = _pg_args()
            _run(["pg_restore", *args, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
                  "-d", settings.DATABASES["default"]["NAME"], str(dump)], env, "pg_restore")
        else:
            connection.close()
            target = _sqlite_path()
            target.parent.mkdir(parents=True, exist_ok=True)
            for path in _live_sqlite_files():
                path.unlink(missing_ok=True)
            shutil.copyfile(dump, target)
        data_dir = Path(settings.DATA_DIR)
        for rel in manifest["files"]:
            target = data_dir / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(folder / DATA / rel, target)
    connection.close()
    with connection.cursor() as cursor:
        tables = sorted(connection.introspection.table_names(cursor))
        counts = _counts(cursor, tables, connection.ops.quote_name)
        anchor = _read_anchor(cursor, set(tables))
    if counts != manifest["counts"]:
        differ = sorted(t for t in set(counts) | set(manifest["counts"]) if counts.get(t) != manifest["counts"].get(t))
        raise ServiceError(f"復元後の件数がバックアップと一致しません: {', '.join(differ[:10])}", "restore_counts")
    if anchor != manifest["audit"]:
        raise ServiceError("復元後の監査ログの末尾がバックアップの記録と一致しません。", "restore_anchor")
    return RestoreResult(len(counts), sum(counts.values()), len(manifest["files"]), anchor,
                         manifest.get("audit_key_fingerprint") == key_fingerprint())
