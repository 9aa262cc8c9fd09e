"""The share's change journal: `hiroba records watch PATH` watches a root with inotify and writes
every path that changes under it to ShareChange, so a re-scan looks at those paths instead of
walking every file (scans.py reads the journal; ADR 0023 says why inotify and what it cannot see).

The contract is the one `ShareWatch` and `ShareChange` describe (models.py). What a reader of
the journal relies on:

- `drained_at = t` is written in the transaction that writes the paths of every event read by an
  `inotify.read` that began after `t`. inotify_simple reads all that is queued (FIONREAD), and
  the kernel queues an event before the system call that caused it returns, so every change made
  before `t` is in that transaction or an earlier one. Paths not yet written stay in memory
  (deduplicated) until a write succeeds; none is dropped on a database error.
- A folder created or moved in is recorded by its own path (the scanner re-walks a journaled
  folder), and its watch is in place before that path is committed: events are handled, new
  folders watched, and only then the round written.
- After an overflow (the kernel dropped events) every folder is watched again from the root —
  a folder made while events were lost would have no watch — and `overflowed_at` is taken once
  that is done: a full scan starting after it leaves the journal complete again.

Paths are relative to the root, `/`-separated, each name as `scanner.display` shows it; one may
be journaled more than once (its events read in two rounds). A path longer than the column is
recorded as the nearest folder above it that fits ("" — the root itself — only if even a
top-level name does not fit). The root's own attribute changes are not recorded.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import socket
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TypeVar

from django.db import InterfaceError, OperationalError, close_old_connections, transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from inotify_simple import INotify
from inotify_simple import flags as F

from hiroba.core.errors import ServiceError
from hiroba.records.models import ShareChange, ShareWatch
from hiroba.records.scanner import display
from hiroba.records.scans import allowed_root

log = logging.getLogger(__name__)
T = TypeVar("T")

MASK = (F.CREATE | F.DELETE | F.MODIFY | F.CLOSE_WRITE | F.ATTRIB | F.MOVED_FROM | F.MOVED_TO
        | F.DELETE_SELF | F.MOVE_SELF | F.DONT_FOLLOW | F.EXCL_UNLINK | F.ONLYDIR)
PATH_MAX = 1000  # ShareChange.path's length
INSERT_BATCH = 1000
DRAIN_EVERY = 1000  # folders watched between two reads of the queue during the first walk
MAX_USER_WATCHES = "/proc/sys/fs/inotify/max_user_watches"
MOUNTINFO = "/proc/self/mountinfo"
# File systems whose files other machines change without this kernel knowing: inotify would
# journal only this host's changes, and a scan trusting the journal would miss the others.
NETWORK_FS = frozenset({"nfs", "nfs4", "cifs", "smb3", "smbfs", "ceph", "9p", "afs", "glusterfs", "lustre",
                        "gpfs", "ocfs2", "gfs2", "fuse.sshfs", "fuse.rclone", "fuse.s3fs", "fuse.glusterfs",
                        "fuse.cephfs", "fuse.gcsfuse", "fuse.davfs", "davfs"})


class _NoWatchesLeft(Exception):
    """inotify_add_watch failed with ENOSPC: fs.inotify.max_user_watches is used up."""


class _Stopped(Exception):
    """The stop event was set during the first walk."""


class Watcher:
    """One run of the watcher on one root: its inotify instance, the folder of each watch, and the
    paths and row changes not yet written. `handle(event)` takes one inotify event; `step()` reads
    what is queued, handles it and writes the round; `run()` does the whole run."""

    def __init__(self, path: str, *, stop: threading.Event | None = None) -> None:
        self.root = allowed_root(path)
        self.stop = stop or threading.Event()
        self.epoch = uuid.uuid4().hex
        self.inotify: INotify | None = None
        # folders as native relative paths (str from the file system, "" for the root); shown
        # with `display` only when written
        self.wd_folder: dict[int, str] = {}
        self.folder_wd: dict[str, int] = {}
        self.children: dict[str, set[str]] = defaultdict(set)
        self.blind: set[str] = set()
        self.skip: set[str] = set()  # network mounts below the root: never watched
        self.pending: set[str] = set()
        self.overflowed_at: datetime | None = None  # not yet saved
        self.row_dirty = False  # folders or blind changed since the last write
        self.replaced = False
        self.root_gone = False
        self.rewalk = False  # set by an overflow: `rewatch` before the round is written

    # --- the run ------------------------------------------------------------------------------

    def register(self) -> None:
        """Make the root's ShareWatch row this run's (a watcher still running on it stops at its
        next round, when its conditional write finds another epoch)."""
        _retrying(lambda: ShareWatch.objects.update_or_create(root=self.root, defaults={
            "epoch": self.epoch, "host": socket.gethostname(), "pid": os.getpid(), "started_at": timezone.now(),
            "ready_at": None, "drained_at": None, "overflowed_at": None, "stopped_at": None,
            "folders": 0, "blind": [],
        }))

    def run(self, *, idle: float = 0.2, ready: Callable[[ShareWatch], None] | None = None) -> ShareWatch:
        """Start, then journal changes until the stop event is set or another watcher takes the
        root over; `ready` is called with the row once every folder is watched. Returns the
        root's row as the run ends."""
        try:
            if self.start():
                if ready is not None:
                    ready(_retrying(lambda: ShareWatch.objects.get(root=self.root)))
                timeout = max(0, int(idle * 1000))
                while not self.stop.is_set() and self.step(timeout):
                    pass
                if not self.replaced and not self.root_gone:
                    self.step(0)  # what was queued before the stop
        finally:
            self.close()
        row = _retrying(lambda: ShareWatch.objects.get(root=self.root))
        if self.replaced:
            log.info("records watch %s: another watcher (%s, pid %s) took over", self.root, row.host, row.pid)
        if self.root_gone:
            raise ServiceError(format_lazy(_("監視していたフォルダ {root} が移動または削除されました。"), root=self.root),
                               code="watch_root_gone")
        return row

    def start(self) -> bool:
        """Register this run, watch every folder and set `ready_at`. False when the stop event
        was set or another watcher took the root over meanwhile."""
        self.register()
        try:
            self.inotify = INotify()
        except OSError as exc:
            if exc.errno == errno.EMFILE:
                raise ServiceError(_("inotify をこれ以上作れません。fs.inotify.max_user_instances を大きくして"
                                     "ください。"), code="watch_no_instance") from exc
            raise
        try:
            self.watch_all()
        except _Stopped:
            return False
        if self.rewalk:  # the queue overflowed while the first walk went on
            self.rewatch()
        if not _retrying(lambda: ShareWatch.objects.filter(root=self.root, epoch=self.epoch).update(
                ready_at=timezone.now(), folders=len(self.wd_folder), blind=self._blind_shown())):
            self.replaced = True
            return False
        self.row_dirty = False
        return True

    def close(self) -> None:
        """Close the inotify instance (its watches go with it) and mark the run stopped, if the
        row is still this run's."""
        if self.inotify is not None:
            self.inotify.close()
            self.inotify = None
        try:
            _retrying(lambda: ShareWatch.objects.filter(root=self.root, epoch=self.epoch).update(
                stopped_at=timezone.now()))
        except (OperationalError, InterfaceError) as exc:
            log.error("records watch %s: could not record the stop (%s)", self.root, exc)

    def step(self, timeout: int = 0) -> bool:
        """Read what the kernel queued (waiting up to `timeout` ms for a first event), handle it,
        and write the round. False when the run must end (the root was taken over or is gone)."""
        assert self.inotify is not None
        started = timezone.now()  # before the read: every change made before it is in this read
        for event in self.inotify.read(timeout=timeout):
            self.handle(event)
        if self.rewalk and not self.root_gone:
            self.rewatch()
        return self.flush(started) and not self.root_gone

    def rewatch(self) -> None:
        """After an overflow: watch every folder again from the root (a folder already watched
        keeps its wd), drop the watches of folders no longer found (moved or deleted while events
        were lost), and take `overflowed_at` again now that the watches are complete."""
        before = set(self.wd_folder)
        self.wd_folder.clear()
        self.folder_wd.clear()
        self.children.clear()
        self.blind = set(self.skip)
        self.rewalk = False
        self._watch_tree("")
        for wd in before - set(self.wd_folder):
            self._rm_watch(wd)
        self.row_dirty = True
        self._overflowed()

    def flush(self, drained_at: datetime) -> bool:
        """Write the pending paths and `drained_at` (with the row's other changes) in one
        transaction, on the condition that the row is still this run's. On a database error the
        paths stay pending for the next round. False when another watcher took the root over."""
        paths = sorted(self.pending)
        fields: dict[str, object] = {"drained_at": drained_at}
        if self.overflowed_at is not None:
            fields["overflowed_at"] = self.overflowed_at
        if self.row_dirty:
            fields.update(folders=len(self.wd_folder), blind=self._blind_shown())
        try:
            with transaction.atomic():
                if not ShareWatch.objects.filter(root=self.root, epoch=self.epoch).update(**fields):
                    self.replaced = True
                    return False
                ShareChange.objects.bulk_create(
                    [ShareChange(root=self.root, epoch=self.epoch, path=p) for p in paths], batch_size=INSERT_BATCH)
        except (OperationalError, InterfaceError) as exc:
            log.warning("records watch %s: could not write %d changed paths (%s); retrying", self.root, len(paths), exc)
            close_old_connections()
            return True
        self.pending.clear()  # nothing is added between the sort and here: one thread handles events
        self.overflowed_at = None
        self.row_dirty = False
        return True

    # --- events -------------------------------------------------------------------------------

    def handle(self, event: tuple[int, int, int, str]) -> None:
        """One inotify event (wd, mask, cookie, name): record the path it names, and keep the
        watches in step with the folders (new ones watched, removed ones dropped)."""
        wd, mask, _cookie, name = event
        if mask & F.Q_OVERFLOW:
            log.warning("records watch %s: the inotify queue overflowed; the journal has a gap", self.root)
            self._overflowed()
            self.rewalk = True  # folders made or moved while events were lost have no watch yet
            return
        folder = self.wd_folder.get(wd)
        if folder is None:
            return  # a watch already dropped (its folder moved out or away: the parent's event said so)
        if mask & F.IGNORED:
            self._forget(wd)
            return
        if not name:  # the watched folder itself
            if folder == "":
                if mask & (F.DELETE_SELF | F.MOVE_SELF | F.UNMOUNT):
                    # the watches now follow a folder that is not at the root's path any more
                    log.error("records watch %s: the folder itself was moved or deleted", self.root)
                    self.root_gone = True
                    self._overflowed()
                return  # the root's own attributes are nothing a scan reports
            self.record(folder)
            if mask & F.UNMOUNT:  # a file system mounted there went: watch what is under it now
                self._drop_tree(folder)
                self._watch_tree(folder)
            return
        path = f"{folder}/{name}" if folder else name
        self.record(path)
        if mask & F.ISDIR:
            if mask & (F.CREATE | F.MOVED_TO):
                self._watch_tree(path)
            elif mask & (F.MOVED_FROM | F.DELETE):
                self._drop_tree(path)
            elif mask & F.ATTRIB and path in self.blind:  # perhaps readable now
                self.blind.discard(path)
                self.row_dirty = True
                self._watch_tree(path)

    def record(self, rel: str) -> None:
        """Journal a native relative path (its nearest folder that fits, when it is too long)."""
        parts = rel.split("/")
        shown = "/".join(display(p) for p in parts)
        while len(shown) > PATH_MAX:
            parts.pop()
            shown = "/".join(display(p) for p in parts)
        self.pending.add(shown)

    def _overflowed(self) -> None:
        """Events were lost (the kernel's queue was full, or the root went): `overflowed_at = now`,
        saved at once. The time is taken after the read that found the loss, so a full scan
        starting after it sees what was lost; after an overflow it is taken again once `rewatch`
        has watched the folders the lost events would have named."""
        self.overflowed_at = timezone.now()
        try:
            if ShareWatch.objects.filter(root=self.root, epoch=self.epoch).update(overflowed_at=self.overflowed_at):
                self.overflowed_at = None
        except (OperationalError, InterfaceError) as exc:  # written with the next round instead
            log.warning("records watch %s: could not record the overflow now (%s)", self.root, exc)
            close_old_connections()

    # --- watches ------------------------------------------------------------------------------

    def watch_all(self) -> None:
        """Watch the root and every folder below it. Raises ServiceError when the root is on a
        network file system, or when fs.inotify.max_user_watches is too small for the folders
        (naming how many there are). A network file system mounted below the root is blind."""
        try:
            with open(MOUNTINFO, "rb") as fh:
                table = mounts(fh.read())
        except OSError:
            table = []
        fstype, inside = network_mounts(self.root, table)
        if fstype:
            raise ServiceError(format_lazy(
                _("{root} はネットワーク上のフォルダ（{fstype}）です。ほかのマシンでの変更はこのマシンの inotify に"
                  "届かないので、ファイルを置いているサーバーの上で監視してください。"), root=self.root, fstype=fstype),
                code="watch_network_fs")
        for rel in inside:
            self._blind_add(rel)
        self.skip = set(inside)
        try:
            self._watch_tree("", first=True)
        except _NoWatchesLeft:
            assert self.inotify is not None
            folders = sum(1 for _ in _folders(self.root))
            try:
                with open(MAX_USER_WATCHES) as fh:
                    limit = int(fh.read())
            except (OSError, ValueError):
                limit = 0
            # headroom for folders made later and for other watches of the same user
            suggest = -(-folders * 3 // 2 // 1000) * 1000
            raise ServiceError(format_lazy(
                _("{root} のフォルダ {folders} 個を監視できません。監視の上限 fs.inotify.max_user_watches（いま {limit}）"
                  "が足りません。{suggest} 以上にしてください（例: /etc/sysctl.d/90-hiroba.conf に "
                  "fs.inotify.max_user_watches={suggest} と書いて sysctl --system）。"),
                root=self.root, folders=f"{folders:,}", limit=f"{limit:,}", suggest=suggest),
                code="watch_limit") from None

    def _watch_tree(self, rel: str, *, first: bool = False) -> None:
        """Watch a folder and every folder under it: each folder's watch is added before it is
        listed, so a folder made in it meanwhile is either listed or reported by an event. The
        first walk (of the whole root) also handles what is queued every DRAIN_EVERY folders, so
        the kernel's queue does not overflow while a large share is walked."""
        assert self.inotify is not None
        stack = [rel]
        walked = 0
        while stack:
            if first:
                if self.stop.is_set():
                    raise _Stopped
                walked += 1
                if walked % DRAIN_EVERY == 0:
                    for event in self.inotify.read(timeout=0):
                        self.handle(event)
            rel = stack.pop()
            if rel in self.skip:
                continue
            try:
                if not self._add(rel):
                    continue
            except _NoWatchesLeft:
                if first:
                    raise
                log.error("records watch %s: fs.inotify.max_user_watches is used up; %r is not watched",
                          self.root, rel)
                self._blind_add(rel)
                continue
            try:
                with os.scandir(os.path.join(self.root, rel) if rel else self.root) as it:
                    for entry in it:
                        if entry.is_dir(follow_symlinks=False):
                            stack.append(f"{rel}/{entry.name}" if rel else entry.name)
            except (FileNotFoundError, NotADirectoryError):
                pass  # gone since: its parent's event records that
            except PermissionError:  # watchable (readable) but not searchable: nothing under it is
                self._blind_add(rel)

    def _add(self, rel: str) -> bool:
        """Add the watch of one folder; False when it cannot be (gone, not a folder, unreadable)."""
        assert self.inotify is not None
        try:
            wd = self.inotify.add_watch(os.path.join(self.root, rel) if rel else self.root, MASK)
        except PermissionError:
            self._blind_add(rel)
            return False
        except (FileNotFoundError, NotADirectoryError):
            return False  # gone, or a file or a link now (IN_ONLYDIR, IN_DONT_FOLLOW)
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                raise _NoWatchesLeft from exc
            if exc.errno == errno.ELOOP:
                return False
            log.warning("records watch %s: cannot watch %r (%s)", self.root, rel, exc)
            self._blind_add(rel)
            return False
        old = self.folder_wd.get(rel)
        if old is not None and old != wd:
            self._forget(old)
            self._rm_watch(old)
        self.wd_folder[wd] = rel
        self.folder_wd[rel] = wd
        if rel:
            self.children[rel.rpartition("/")[0]].add(rel)
        self.row_dirty = True
        return True

    def _drop_tree(self, rel: str) -> None:
        """Forget a folder and everything under it, removing their watches. A folder moved out of
        the root keeps its watches in the kernel until removed; a deleted one's are gone already
        (the error is ignored). The kernel never reuses a wd soon, so the IN_IGNORED that follows
        names only the old watch."""
        stack = [rel]
        while stack:
            folder = stack.pop()
            stack.extend(self.children.pop(folder, ()))
            wd = self.folder_wd.pop(folder, None)
            if wd is not None:
                del self.wd_folder[wd]
                self._rm_watch(wd)
        if rel:
            self.children.get(rel.rpartition("/")[0], set()).discard(rel)
        inside = {b for b in self.blind if b == rel or b.startswith(rel + "/")}
        self.blind -= inside
        self.row_dirty = True

    def _forget(self, wd: int) -> None:
        folder = self.wd_folder.pop(wd, None)
        if folder is not None and self.folder_wd.get(folder) == wd:
            del self.folder_wd[folder]
            if folder:
                self.children.get(folder.rpartition("/")[0], set()).discard(folder)
            self.row_dirty = True

    def _rm_watch(self, wd: int) -> None:
        assert self.inotify is not None
        try:
            self.inotify.rm_watch(wd)
        except OSError:
            pass

    def _blind_add(self, rel: str) -> None:
        self.blind.add(rel)
        self.row_dirty = True

    def _blind_shown(self) -> list[str]:
        return sorted("/".join(display(p) for p in b.split("/")) if b else "" for b in self.blind)


def _retrying(write: Callable[[], T], tries: int = 10) -> T:
    """`write()`, tried again after a database error (SQLite busy or locked, a connection lost)
    for a few seconds: the run's start and end have no later round to catch up in."""
    for attempt in range(1, tries + 1):
        try:
            return write()
        except (OperationalError, InterfaceError) as exc:
            if attempt == tries:
                raise
            log.warning("records watch: database error (%s); trying again", exc)
            close_old_connections()
            time.sleep(0.1 * attempt)
    raise AssertionError("unreachable")


def mounts(mountinfo: bytes) -> list[tuple[str, str]]:
    """(mount point, file system type) of each line of /proc/self/mountinfo."""
    out = []
    for line in mountinfo.splitlines():
        fields = line.split()
        try:
            point, fstype = fields[4], fields[fields.index(b"-") + 1]
        except (IndexError, ValueError):
            continue
        point = re.sub(rb"\\([0-7]{3})", lambda m: bytes([int(m.group(1), 8)]), point)
        out.append((os.fsdecode(point), os.fsdecode(fstype)))
    return out


def network_mounts(root: str, table: list[tuple[str, str]]) -> tuple[str | None, list[str]]:
    """The network file system type `root` is on (None for a local one), and the folders below it
    (relative) where a network file system is mounted. The last mount of a point is the one seen."""
    holding: tuple[str, str] | None = None
    below: dict[str, str] = {}
    for point, fstype in table:
        if root == point or root.startswith(point.rstrip("/") + "/"):
            if holding is None or len(point) >= len(holding[0]):
                holding = (point, fstype)
        elif point.startswith(root.rstrip("/") + "/"):
            below[os.path.relpath(point, root)] = fstype
    if holding is not None and holding[1] in NETWORK_FS:
        return holding[1], []
    return None, sorted(rel for rel, fstype in below.items() if fstype in NETWORK_FS)


def _folders(root: str) -> Iterable[str]:
    """Every folder under `root` and itself (no link followed): for counting them."""
    stack = [root]
    while stack:
        folder = stack.pop()
        yield folder
        try:
            with os.scandir(folder) as it:
                stack.extend(e.path for e in it if e.is_dir(follow_symlinks=False))
        except OSError:
            pass


def watch(path: str, *, stop: threading.Event | None = None, idle: float = 0.2,
          ready: Callable[[ShareWatch], None] | None = None) -> ShareWatch:
    """Journal the changes under `path` (a folder RECORDS_SCAN_ROOTS allows) until `stop` is set
    or another watcher takes the root over; `ready` is called with the row once every folder is
    watched. Returns the root's row as the run ends. Raises ServiceError for a root it may not
    watch, too few inotify watches, or a root that was moved or deleted while watched."""
    return Watcher(path, stop=stop).run(idle=idle, ready=ready)
