"""The share scanner: walk a shared folder, find duplicates and rule breaks, never touch a file.

Pure Python (no Django), so the benchmark and the tests can run it on any tree; `scans.py` stores
what it finds. The walk is `os.scandir` without following symbolic links (a link is neither
counted nor followed, so a loop cannot trap it; a broken link or a loop is reported). Duplicates
are found as jdupes and rmlint do: files grouped by size, then by a hash of their first 64 KB,
then by the hash of the whole file (BLAKE2b); a file of 64 KB or less is hashed once. Hashes of a
file whose size and modification time are unchanged since the previous scan are reused, so a
re-scan reads only the files that changed.

Every problem with one file or folder (unreadable, vanished during the scan, a name that is not
valid UTF-8) is recorded in `errors` and the walk goes on.
"""

from __future__ import annotations

import errno
import gc
import hashlib
import multiprocessing
import os
import time
import unicodedata
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import repeat
from stat import S_ISDIR, S_ISLNK, S_ISREG
from typing import Any

from hiroba.records.naming import Rules, Violation, Zone, fiscal_year_of

PARTIAL = 64 * 1024
CHUNK = 1024 * 1024
HASH_WORKERS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
HASH_BATCH = 512  # files per hashing task
# fewer files than this are hashed in this process: forking a scanner that holds a million-file
# inventory, and the round trips, cost more than reading them (10,000 files: 1.9 s against 0.1 s)
FORK_FROM = 20000


# One regular file of the inventory, keyed by its path (relative to the root, `/`-separated):
# (size, mtime_ns, partial hash, full hash); "" where not hashed. A plain tuple, not an object per
# file: a re-scan keeps the previous scan's tuple of an unchanged file as it is.
Entry = tuple[int, int, str, str]


@dataclass
class Finding:
    path: str
    kind: str  # "naming" | "depth" | "zone" | "retention" | "encoding"
    rule: str
    message: str
    suggestion: str = ""


@dataclass
class Result:
    root: str
    files: int = 0
    bytes: int = 0
    folders: int = 0
    entries: dict[str, Entry] = field(default_factory=dict)
    duplicates: list[list[str]] = field(default_factory=list)
    violations: list[Finding] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)
    native: dict[str, str] = field(default_factory=dict)  # shown path → real path, for names not UTF-8
    changed: set[str] = field(default_factory=set)  # paths whose entry is not the previous scan's (new, changed, hashed)
    hashed: int = 0  # files read for a hash in this scan (the rest reused the inventory's)
    seconds: float = 0.0
    capacity_folder: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    capacity_type: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    capacity_age: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    capacity_zone: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    capacity_department: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    zone_level: int = 0  # 0: the zones are the root's folders; 1: the root holds departments' folders
    # the files each figure of the capacity report counts (a re-scan from the journal keeps a
    # figure while it counts a file), the folders found, the duplicate groups by their key
    count_folder: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    count_type: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    count_zone: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    count_department: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    count_age: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    folder_paths: list[str] = field(default_factory=list)
    groups: dict[str, list[str]] = field(default_factory=dict)  # "size:hash" → paths (two or more)
    gone: set[str] = field(default_factory=set)  # Scanner.look: paths looked at that are not files now
    journal: int | None = None  # the paths a re-scan from the journal looked at; None: a whole walk
    # (violations, stale) as stored, when a re-scan from the journal did not read the lists back
    counted: tuple[int, int] | None = None

    @property
    def violation_count(self) -> int:
        return self.counted[0] if self.counted is not None else len(self.violations)

    @property
    def stale_count(self) -> int:
        return self.counted[1] if self.counted is not None else len(self.stale)

    def as_json(self) -> dict[str, Any]:
        """The `--json OUT` contract of `hiroba records scan`."""
        if self.counted is not None:
            raise ValueError("a re-scan from the journal run with findings=False holds no lists of findings")
        return {
            "files": self.files, "bytes": self.bytes,
            "duplicates": self.duplicates,
            "violations": [{"path": v.path, "rule": v.rule, "suggestion": v.suggestion} for v in self.violations],
            "stale": self.stale,
            "errors": self.errors,
        }


AGE_BUCKETS = [(365, "1年未満"), (3 * 365, "1〜3年"), (5 * 365, "3〜5年"), (10 * 365, "5〜10年")]
AGE_OLDEST = "10年以上"
AGE_LABELS = [AGE_OLDEST, *(label for _, label in reversed(AGE_BUCKETS))]


def age_limits(now_ns: int) -> list[int]:
    """The age buckets' limits at `now_ns`, ascending: `bisect_left` of an mtime counts the
    limits it is past, which is its bucket's index in AGE_LABELS."""
    return [now_ns - days * 86400 * 10**9 for days, _ in reversed(AGE_BUCKETS)]


def display(name: str) -> str:
    """A name as text: valid UTF-8 as is; other bytes as \\xNN (never a lone surrogate)."""
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        return os.fsencode(name).decode("utf-8", "backslashreplace")


def shift_jis_reading(name: str) -> str | None:
    """What a name that is not UTF-8 says when read as Shift_JIS (cp932), if it reads."""
    try:
        reading = os.fsencode(name).decode("cp932")
    except UnicodeDecodeError:
        return None
    # cp932 maps some stray bytes to private-use or control characters: that is not a reading
    if any(unicodedata.category(c) in ("Co", "Cc") for c in reading):
        return None
    return reading


@contextmanager
def no_gc() -> Iterator[None]:
    """The cyclic garbage collector paused while a scan builds its inventory: each of its full
    collections walks every object already made (an Entry per file), which made a large scan's
    time grow faster than its files (about half of a 200,000-file re-scan). The collector is
    resumed afterwards (if it ran before) and collects what little cyclic garbage was left."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


class Scanner:
    """One walk of `root`. `previous` is the inventory of the last scan (path → Entry).

    `naming`, when given, holds the naming-rule results of the previous scan made with the same
    rules (path → [(rule, message, suggestion)], None: check again): a file whose path is in
    `previous` is not checked again (its name, hence its result, is the same), a new path is."""

    def __init__(
        self, root: str, *, rules: Rules, zones: Mapping[str, Zone], stale_days: int = 180,
        expired_folders: Mapping[str, str] | None = None, previous: Mapping[str, Entry] | None = None,
        naming: Mapping[str, list[tuple[str, str, str]] | None] | None = None,
        progress: Callable[[int, int], None] | None = None, today: date | None = None, workers: int = HASH_WORKERS,
    ) -> None:
        self.root = os.path.abspath(root)
        self.rules = rules
        self.zones = zones
        self.stale_days = stale_days
        self.expired = dict(expired_folders or {})  # relative folder → the register entry's name
        self.previous = previous or {}
        self.naming = naming
        self.progress = progress
        self.now_ns = time.time_ns()
        self.now = self.now_ns / 1e9
        self.today = today or date.today()
        self.workers = workers
        self.early: _EarlyHashes | None = None
        self.failed: set[str] = set()  # files a hash could not be read from (reported once)
        self.level = 0

    def _detect_level(self) -> int:
        """0 when a zone folder is directly under the root (one department's share), else 1
        (the root holds a folder per department, each with the zones)."""
        if not self.zones:
            return 0
        try:
            with os.scandir(self.root) as it:
                names = {e.name for e in it}
        except OSError:
            return 0
        return 0 if names & set(self.zones) else 1

    # --- the walk ---------------------------------------------------------------------------

    def run(self) -> Result:
        with no_gc():
            return self._run()

    def _run(self) -> Result:
        started = time.perf_counter()
        result = Result(root=self.root)
        if not os.path.isdir(self.root):
            raise FileNotFoundError(errno.ENOENT, "not a folder", self.root)
        self._prepare(result)
        if self.workers > 1 and hasattr(os, "fork"):
            self.early = _EarlyHashes(self.root, result.native, self.workers)
        try:
            for kind, rel, parts, files in self._walk(result):
                if kind == "dir":
                    self._folder(result, rel, parts)
                else:
                    self._files(result, parts, files)
            if self.early is not None:
                self.failed = self.early.collect(result)
        finally:
            if self.early is not None:
                self.early.close()
                self.early = None
        self._duplicates(result)
        result.seconds = time.perf_counter() - started
        return result

    def look(self, paths: list[str], zone_level: int) -> Result:
        """The part of a scan under `paths` only (relative; from the change journal): each path
        that is a file is looked at alone, each that is a folder is walked whole, each that is
        not there any more (or is not a regular file nor a folder) is listed in `gone`. The
        findings, figures and errors are those of the files and folders found, computed as a
        whole scan computes them; the entries are not hashed (scans.py hashes what it must)."""
        started = time.perf_counter()
        result = Result(root=self.root)
        self._prepare(result, zone_level)
        by_folder: dict[str, list[tuple[str, str, int, int]]] = defaultdict(list)
        looked: list[tuple[str, os.stat_result | None]] = []
        for rel in paths:
            try:
                looked.append((rel, os.lstat(os.path.join(self.root, rel))))
            except FileNotFoundError:
                looked.append((rel, None))
            except OSError:
                looked.append((rel, None))
                result.errors.append({"path": rel, "reason": "unreadable"})
        # a path under a folder that is walked whole is found by that walk
        walked = {rel for rel, st in looked if st is not None and S_ISDIR(st.st_mode)}
        for rel, st in looked:
            parts = rel.split("/")
            if walked and any("/".join(parts[:i]) in walked for i in range(1, len(parts))):
                continue
            full = os.path.join(self.root, rel)
            name = parts[-1]
            if st is None:
                result.gone.add(rel)
                continue
            if S_ISREG(st.st_mode):
                by_folder[rel.rpartition("/")[0]].append((rel, name, st.st_size, st.st_mtime_ns))
                continue
            result.gone.add(rel)  # not a file (any more): what was at or under it is replaced
            if S_ISLNK(st.st_mode):
                self._link(result, rel, full)
            elif S_ISDIR(st.st_mode):
                self._folder(result, rel, parts)
                for kind, sub, sub_parts, files in self._walk(result, start=(full, parts)):
                    if kind == "dir":
                        self._folder(result, sub, sub_parts)
                    else:
                        self._files(result, sub_parts, files)
        for folder, files in by_folder.items():
            self._files(result, folder.split("/") if folder else [], files)
        result.seconds = time.perf_counter() - started
        return result

    def _prepare(self, result: Result, level: int | None = None) -> None:
        day_ns = 86400 * 10**9
        self.stale_before = self.now_ns - self.stale_days * day_ns
        self.level = result.zone_level = self._detect_level() if level is None else level
        # the age buckets as ascending limits: bisect_left counts the limits a time is past
        self.age_limits = age_limits(self.now_ns)
        self.age_labels = AGE_LABELS
        self.checked: dict[str, list[Violation]] = {}
        self.failed = set()

    def place(self, parts: list[str]) -> tuple[str, str, str, bool, str | None]:
        """What is the same for every file of the folder `parts`: the capacity report's folder,
        zone and department, whether it is a work area, the expired register file it is in."""
        level = self.level
        zone = self.zones.get(parts[level]) if len(parts) > level else None
        return ("/".join(parts[:level + 2]) or ".", zone.name if zone else "（区分外）",
                parts[0] if level and parts else ".", zone is not None and zone.work, self._expired_folder([*parts, ""]))

    def _folder(self, result: Result, rel: str, parts: list[str]) -> None:
        result.folders += 1
        result.folder_paths.append(rel)
        self._check_folder(result, rel, parts)

    def _files(self, result: Result, parts: list[str], files: list[tuple[str, str, int, int]]) -> None:
        """The files of one folder (rel, name, size, mtime_ns): entries, rules and figures."""
        previous, entries, changed, check = self.previous, result.entries, result.changed, self.rules.check
        known, checked, stale_before, early = self.naming, self.checked, self.stale_before, self.early
        limits, age_labels = self.age_limits, self.age_labels
        violations, stale = result.violations, result.stale
        cap_type, cap_age, n_type, n_age = result.capacity_type, result.capacity_age, result.count_type, result.count_age
        folder, zone_name, dept, work, expired = self.place(parts)
        folder_bytes = 0
        for rel, name, size, mtime in files:
            folder_bytes += size
            prev = previous.get(rel)
            if prev is not None and known is not None and (reused := known.get(rel, ())) is not None:
                for rule, message, suggestion in reused:
                    violations.append(Finding(rel, "naming", rule, message, suggestion))
            else:
                found = checked.get(name)
                if found is None:  # a file's result depends on its name alone: once per name
                    found = checked[name] = check(name, is_dir=False)
                for v in found:
                    violations.append(Finding(rel, "naming", v.rule, v.message, _sibling(rel, v.suggestion)))
            if prev is not None and prev[0] == size and prev[1] == mtime:
                entries[rel] = prev  # unchanged: the previous scan's hashes hold
            else:
                entries[rel] = (size, mtime, "", "")
                changed.add(rel)
                if early is not None and size:
                    early.add(rel)
            kind = type_of(name)
            cap_type[kind] += size
            n_type[kind] += 1
            age = age_labels[bisect_left(limits, mtime)]
            cap_age[age] += size
            n_age[age] += 1
            if work and mtime < stale_before:
                stale.append(rel)
            if expired is not None:
                violations.append(Finding(rel, "retention", "retention_expired", f"保存期間満了: {expired}"))
        n = len(files)
        result.files += n
        result.bytes += folder_bytes
        result.capacity_folder[folder] += folder_bytes
        result.count_folder[folder] += n
        result.capacity_zone[zone_name] += folder_bytes
        result.count_zone[zone_name] += n
        if self.level:
            result.capacity_department[dept] += folder_bytes
            result.count_department[dept] += n
        if self.progress and files:
            self.progress(result.files, result.bytes)

    def _link(self, result: Result, rel: str, path: str) -> None:
        """A symbolic link is never followed nor counted; a broken one or a loop is reported."""
        try:
            os.stat(path)
        except FileNotFoundError:
            result.errors.append({"path": rel, "reason": "broken_symlink"})
        except OSError as exc:
            result.errors.append({"path": rel, "reason": "symlink_loop" if exc.errno == errno.ELOOP else "broken_symlink"})

    def _walk(self, result: Result, start: tuple[str, list[str]] | None = None,
              ) -> Iterator[tuple[str, str, list[str], list[tuple[str, str, int, int]]]]:
        """("dir", rel, parts, []) for each folder under `start` (the root), then ("files",
        prefix, parts, files) for its files, each (rel, name, size, mtime_ns)."""
        stack: list[tuple[str, list[str]]] = [start or (self.root, [])]
        while stack:
            folder, parts = stack.pop()
            prefix = "/".join(parts)
            try:
                with os.scandir(folder) as it:
                    children = list(it)
            except FileNotFoundError:
                result.errors.append({"path": prefix or ".", "reason": "vanished"})
                continue
            except PermissionError:
                result.errors.append({"path": prefix or ".", "reason": "unreadable"})
                continue
            except OSError as exc:
                result.errors.append({"path": prefix or ".",
                                      "reason": errno.errorcode.get(exc.errno or 0, "oserror").lower()})
                continue
            files: list[tuple[str, str, int, int]] = []
            lead = prefix + "/" if prefix else ""
            lead_native = "\\x" in lead
            try:  # one check for the folder: are all its names UTF-8 (nearly always)?
                "/".join([c.name for c in children]).encode("utf-8")
                all_utf8 = True
            except UnicodeEncodeError:
                all_utf8 = False
            for child in children:
                name = child.name
                shown = name if all_utf8 else display(name)
                rel = lead + shown
                if lead_native or "\\x" in shown:  # a name (or a folder above it) that is not UTF-8
                    result.native[rel] = child.path
                if shown != name:
                    reading = shift_jis_reading(name)
                    result.violations.append(Finding(
                        rel, "encoding", "name_encoding",
                        "名前がUTF-8ではありません" + ("（Shift_JISとして読めます）" if reading else ""),
                        reading or ""))
                try:
                    if child.is_symlink():
                        self._link(result, rel, child.path)
                        continue
                    st = child.stat(follow_symlinks=False)
                except FileNotFoundError:
                    result.errors.append({"path": rel, "reason": "vanished"})
                    continue
                except OSError:
                    result.errors.append({"path": rel, "reason": "unreadable"})
                    continue
                mode = st.st_mode
                if S_ISREG(mode):
                    files.append((rel, shown, st.st_size, st.st_mtime_ns))
                elif S_ISDIR(mode):
                    child_parts = [*parts, shown]
                    yield "dir", rel, child_parts, []
                    stack.append((child.path, child_parts))
            if files:
                yield "files", prefix, parts, files

    # --- rules ------------------------------------------------------------------------------

    def _check_folder(self, result: Result, rel: str, parts: list[str]) -> None:
        level = self.level
        if len(parts) <= level:
            return  # a department's folder
        if len(parts) == level + 1:
            if self.zones and parts[level] not in self.zones:
                result.violations.append(Finding(rel, "zone", "zone_unknown",
                                                 "最上位のフォルダは区分（" + "・".join(z.folder for z in self.zones.values())
                                                 + "）のいずれかにする", ""))
            return
        zone = self.zones.get(parts[level])
        self._check_name(result, rel, parts[-1], is_dir=True, zone=zone, depth=len(parts) - 1 - level, mtime=None)

    def _check_name(self, result: Result, rel: str, name: str, *, is_dir: bool, zone: Zone | None, depth: int,
                    mtime: float | None) -> None:
        needs_year = bool(is_dir and zone is not None and zone.fiscal_year_folders and depth == 1)
        fiscal_year = fiscal_year_of(datetime.fromtimestamp(mtime).date()) if needs_year and mtime else None
        found: list[Violation] = self.rules.check(name, is_dir=is_dir, needs_fiscal_year=needs_year,
                                                  fiscal_year=fiscal_year)
        for v in found:
            result.violations.append(Finding(rel, "naming", v.rule, v.message, _sibling(rel, v.suggestion)))
        if is_dir and zone is not None and depth > zone.max_depth:
            result.violations.append(Finding(rel, "depth", "depth_limit",
                                             f"{zone.name}の階層は{zone.max_depth}階層まで", ""))

    def _expired_folder(self, parts: list[str]) -> str | None:
        if not self.expired:
            return None
        for i in range(len(parts) - 1, 0, -1):
            hit = self.expired.get("/".join(parts[:i]))
            if hit is not None:
                return hit
        return None

    # --- duplicates -------------------------------------------------------------------------

    def _duplicates(self, result: Result) -> None:
        entries = result.entries
        by_size: dict[int, list[str]] = defaultdict(list)
        for path, e in entries.items():
            if e[0] > 0:  # empty files are not duplicates
                by_size[e[0]].append(path)
        candidates = [p for group in by_size.values() if len(group) > 1 for p in group]
        failed = self.failed
        self._hash(result, [p for p in candidates if not entries[p][2] and p not in failed], partial=True)
        by_partial: dict[tuple[int, str], list[str]] = defaultdict(list)
        for p in candidates:
            e = entries[p]  # with the hashes just read
            if e[2]:
                by_partial[(e[0], e[2])].append(p)
        need_full = [p for (size, _), group in by_partial.items() if len(group) > 1 and size > PARTIAL
                     for p in group if not entries[p][3]]
        self._hash(result, need_full, partial=False)
        groups = result.groups
        for (size, partial), group in by_partial.items():
            if len(group) < 2:
                continue
            if size <= PARTIAL:  # the partial hash is the whole file's
                groups[f"{size}:{partial}"] = group
                continue
            by_full: dict[str, list[str]] = defaultdict(list)
            for p in group:
                if full := entries[p][3]:
                    by_full[full].append(p)
            groups.update((f"{size}:{full}", paths) for full, paths in by_full.items() if len(paths) > 1)
        result.duplicates = sorted(sorted(paths) for paths in groups.values())

    def _hash(self, result: Result, paths: list[str], *, partial: bool) -> None:
        if not paths:
            return
        root, native, limit = self.root, result.native, PARTIAL if partial else None
        real = [native.get(path) or os.path.join(root, path) for path in paths]
        batches = [real[i:i + HASH_BATCH] for i in range(0, len(real), HASH_BATCH)]
        entries, changed, errors = result.entries, result.changed, result.errors
        digests = _digest_all(batches, limit, self.workers)
        result.hashed += len(paths)
        for path, digest in zip(paths, digests, strict=True):
            if len(digest) < 20:  # not a digest: why the file could not be read
                errors.append({"path": path, "reason": digest})
                continue
            size, mtime, old_partial, _full = entries[path]
            if partial:
                entries[path] = (size, mtime, digest, digest if size <= PARTIAL else "")
            else:
                entries[path] = (size, mtime, old_partial, digest)
            changed.add(path)


class _EarlyHashes:
    """The partial hashes of new and changed files, read by the worker processes while the walk
    goes on (the walk is one core's work, the reading the other's). Nearly every file of a share
    shares its size with another, so nearly all would be read afterwards anyway; one whose size
    turns out to be nobody else's has cost one read of at most 64 KB."""

    def __init__(self, root: str, native: dict[str, str], workers: int) -> None:
        self.root, self.native = root, native
        self.pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"))
        self.pending: list[str] = []
        self.futures: list[tuple[list[str], Future[list[str]]]] = []

    def add(self, rel: str) -> None:
        self.pending.append(rel)
        if len(self.pending) >= HASH_BATCH:
            self._submit()

    def _submit(self) -> None:
        batch, self.pending = self.pending, []
        real = [self.native.get(p) or os.path.join(self.root, p) for p in batch]
        self.futures.append((batch, self.pool.submit(_digest_batch, real, PARTIAL)))

    def collect(self, result: Result) -> set[str]:
        """Every hash into the result's entries; the paths that could not be read."""
        if self.pending:
            self._submit()
        entries, changed, errors = result.entries, result.changed, result.errors
        failed: set[str] = set()
        for batch, future in self.futures:
            result.hashed += len(batch)
            for path, digest in zip(batch, future.result(), strict=True):
                if len(digest) < 20:  # not a digest: why the file could not be read
                    errors.append({"path": path, "reason": digest})
                    failed.add(path)
                    continue
                size, mtime, _partial, _full = entries[path]
                entries[path] = (size, mtime, digest, digest if size <= PARTIAL else "")
                changed.add(path)
        return failed

    def close(self) -> None:
        self.pool.shutdown(cancel_futures=True)


def _digest_batch(batch: list[str], limit: int | None) -> list[str]:
    """The digests of a batch of files ("vanished" or "unreadable" for a file that could not be
    read). A batch per task: a task per file costs more than hashing a small file."""
    done: list[str] = []
    for path in batch:
        try:
            done.append(_digest(path, limit))
        except FileNotFoundError:
            done.append("vanished")
        except OSError:
            done.append("unreadable")
    return done


def _digest_all(batches: list[list[str]], limit: int | None, workers: int) -> list[str]:
    """Every batch's digests, in order. Hashing a small file is a few system calls and a little
    Python: in threads they queue for the interpreter lock (8 threads on 2 cores were slower than
    one), so the batches go to `workers` forked processes (fork: they inherit the module, nothing
    is imported again); in this process when there is one worker, fewer than FORK_FROM files, or no fork."""
    if workers <= 1 or len(batches) * HASH_BATCH < FORK_FROM or not hasattr(os, "fork"):
        return [d for batch in batches for d in _digest_batch(batch, limit)]
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=min(workers, len(batches)), mp_context=context) as pool:
        return [d for done in pool.map(_digest_batch, batches, repeat(limit), chunksize=4) for d in done]


def _digest(path: str, limit: int | None) -> str:
    """BLAKE2b of the file's first `limit` bytes (None: all of it); plain `os.read`, without the
    buffered file object `open` builds (which costs more than reading a small file)."""
    h = hashlib.blake2b(digest_size=20)
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        if limit is not None:
            left = limit
            while left > 0 and (chunk := os.read(fd, left)):
                h.update(chunk)
                left -= len(chunk)
        else:
            while chunk := os.read(fd, CHUNK):
                h.update(chunk)
    finally:
        os.close(fd)
    return h.hexdigest()


def type_of(name: str) -> str:
    """The capacity report's file type of a name: its extension (up to 8 characters), lowered."""
    dot = name.rfind(".")
    return name[dot:].lower() if 0 < dot > len(name) - 9 else "（拡張子なし）"


def group_key(size: int, partial: str, full: str) -> str | None:
    """The duplicate group a hashed file belongs to: its size and whole-content hash (the
    partial hash is the whole file's up to 64 KB); None while the hash it needs is missing."""
    digest = partial if size <= PARTIAL else full
    return f"{size}:{digest}" if digest else None


def _sibling(rel: str, suggestion: str) -> str:
    """The suggested name as a path next to the original (what the JSON's `suggestion` holds)."""
    if not suggestion:
        return ""
    head, _, _ = rel.rpartition("/")
    return f"{head}/{suggestion}" if head else suggestion
