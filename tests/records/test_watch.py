"""`hiroba records watch PATH`, the change journal: a watcher on a real tree (real inotify) records
every changed path in ShareChange, and `drained_at` means what it says — once it is past a
change, the change is written."""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import OperationalError, connection, transaction
from django.utils import timezone
from inotify_simple import INotify, flags

from hiroba.core.errors import ServiceError
from hiroba.records.models import ShareChange, ShareWatch
from hiroba.records.watch import Watcher, mounts, network_mounts
from tests import processes

pytestmark = pytest.mark.django_db(transaction=True)

WORK = "01_総務課/20_作業用/庶務係"
DEADLINE = 30.0
PROCESS_DEADLINE = 120.0  # each `hiroba shell` starts Django afresh: seconds on a busy machine


def until(check: Callable[[], object], what: str, *, deadline: float = DEADLINE) -> object:
    """Poll `check` until it is true (SQLite's shared in-memory test database refuses a read
    while the watcher's thread writes now and then: that is retried too)."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            if value := check():
                return value
        except (OperationalError, ShareWatch.DoesNotExist):
            pass
        time.sleep(0.02)
    raise AssertionError(f"not in time: {what}")


def row(root: str) -> ShareWatch:
    return ShareWatch.objects.get(root=root)


class Running:
    """A watcher in its own thread (own database connection), stopped with its event."""

    def __init__(self, path: Path) -> None:
        self.stop = threading.Event()
        self.watcher = Watcher(str(path), stop=self.stop)
        self.errors: list[BaseException] = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        until(lambda: self.errors or row(self.root).epoch == self.watcher.epoch and row(self.root).ready_at,
              "the watcher is ready")
        assert not self.errors, self.errors

    @property
    def root(self) -> str:
        return self.watcher.root

    def _run(self) -> None:
        try:
            self.watcher.run(idle=0.05)
        except BaseException as exc:  # reported by the test
            self.errors.append(exc)
        finally:
            connection.close()

    def journaled(self, change: Callable[[], object]) -> set[str]:
        """Make the change, wait until `drained_at` is past it, and return the paths journaled
        since just before it."""
        journal = ShareChange.objects.filter(root=self.root, epoch=self.watcher.epoch)
        last = until(lambda: [journal.order_by("-id").values_list("id", flat=True).first() or 0], "the journal")[0]
        change()
        after = timezone.now()
        until(lambda: (r := row(self.root)).drained_at is not None and r.drained_at >= after,
              "drained past the change")
        return set(journal.filter(id__gt=last).values_list("path", flat=True))

    def end(self) -> None:
        self.stop.set()
        self.thread.join(DEADLINE)
        assert not self.thread.is_alive()
        assert not self.errors, self.errors


@pytest.fixture
def share(tmp_path, settings) -> Path:
    root = tmp_path / "share"
    (root / WORK).mkdir(parents=True)
    (root / WORK / "メモ.txt").write_text("メモ", encoding="utf-8")
    (root / WORK / "名簿.csv").write_text("a,b\n", encoding="utf-8")
    (root / WORK / "古い.txt").write_text("x", encoding="utf-8")
    (root / "01_総務課/30_保存用/R05_例規").mkdir(parents=True)
    (root / "01_総務課/30_保存用/R05_例規/01_規則.pdf").write_bytes(b"%PDF-1.4")
    settings.RECORDS_SCAN_ROOTS = [str(tmp_path)]
    return root


@pytest.fixture
def running(share) -> Iterator[Running]:
    watcher = Running(share)
    yield watcher
    if watcher.thread.is_alive():
        watcher.end()


def test_it_watches_every_folder_and_says_when_it_is_ready(running, share):
    r = row(running.root)
    assert r.root == os.path.realpath(share) and r.pid == os.getpid() and r.host
    # the root, 01_総務課, 20_作業用, 庶務係, 30_保存用, R05_例規
    assert r.folders == 6 and r.blind == [] and r.stopped_at is None and r.overflowed_at is None


def test_it_journals_written_touched_created_and_deleted_files(running, share):
    def write() -> None:
        with open(share / WORK / "メモ.txt", "a", encoding="utf-8") as fh:
            fh.write("追記")

    assert f"{WORK}/メモ.txt" in running.journaled(write)
    assert f"{WORK}/名簿.csv" in running.journaled(lambda: os.utime(share / WORK / "名簿.csv", (0, 0)))
    assert f"{WORK}/新規.txt" in running.journaled(lambda: (share / WORK / "新規.txt").write_bytes(b"new"))
    assert f"{WORK}/古い.txt" in running.journaled(lambda: (share / WORK / "古い.txt").unlink())
    assert not {p for p in running.journaled(lambda: None) if p.startswith("/") or p.endswith("/")}


def test_a_new_folder_is_watched_before_its_path_is_written(running, share):
    new = share / "01_総務課/20_作業用/新しい係"
    assert "01_総務課/20_作業用/新しい係" in running.journaled(new.mkdir)
    # the folder's own watch reports the file made in it
    assert "01_総務課/20_作業用/新しい係/案.docx" in running.journaled(lambda: (new / "案.docx").write_bytes(b"x"))
    assert row(running.root).folders == 7


def test_a_tree_moved_in_is_watched_to_the_bottom(running, share, tmp_path):
    outside = tmp_path / "outside"
    (outside / "a/b").mkdir(parents=True)
    assert "01_総務課/持込" in running.journaled(lambda: outside.rename(share / "01_総務課/持込"))
    assert "01_総務課/持込/a/b/c.txt" in running.journaled(lambda: (share / "01_総務課/持込/a/b/c.txt").write_text("c"))
    assert row(running.root).folders == 9


def test_a_renamed_folder_is_journaled_under_both_names_and_watched_under_the_new(running, share):
    old, new = share / "01_総務課/30_保存用/R05_例規", share / "01_総務課/30_保存用/R05_例規集"
    (old / "sub").mkdir()
    running.journaled(lambda: None)
    paths = running.journaled(lambda: old.rename(new))
    assert {"01_総務課/30_保存用/R05_例規", "01_総務課/30_保存用/R05_例規集"} <= paths
    paths = running.journaled(lambda: (new / "sub/02_要綱.pdf").write_bytes(b"%PDF"))
    assert "01_総務課/30_保存用/R05_例規集/sub/02_要綱.pdf" in paths
    assert not any(p.startswith("01_総務課/30_保存用/R05_例規/") for p in paths)
    assert row(running.root).folders == 7


def test_a_folder_moved_out_or_deleted_is_no_longer_watched(running, share, tmp_path):
    (share / "01_総務課/捨てる/中").mkdir(parents=True)
    (share / "01_総務課/出す/中").mkdir(parents=True)
    running.journaled(lambda: None)
    assert row(running.root).folders == 10
    paths = running.journaled(lambda: shutil.rmtree(share / "01_総務課/捨てる"))
    assert {"01_総務課/捨てる", "01_総務課/捨てる/中"} <= paths
    assert "01_総務課/出す" in running.journaled(lambda: (share / "01_総務課/出す").rename(tmp_path / "出した"))
    assert row(running.root).folders == 6
    # what happens in the folder moved out is not under the root any more
    paths = running.journaled(lambda: (tmp_path / "出した/中/外.txt").write_text("x"))
    assert not any("外.txt" in p for p in paths)


def test_a_name_that_is_not_utf8_is_journaled_as_the_scanner_shows_it(running, share):
    name = b"\x83e\x83X\x83g.txt"  # テスト.txt in Shift_JIS

    def create() -> None:
        fd = os.open(os.fsencode(share / WORK) + b"/" + name, os.O_CREAT | os.O_WRONLY, 0o644)
        os.close(fd)

    assert f"{WORK}/\\x83e\\x83X\\x83g.txt" in running.journaled(create)


def test_a_path_too_long_for_the_column_is_journaled_as_its_folder(running, share):
    deep = share / WORK / ("a" * 250) / ("b" * 250) / ("c" * 250)  # 770 characters
    deep.mkdir(parents=True)
    running.journaled(lambda: None)
    long_name = "長" * 80 + ".txt"  # 84 characters (244 bytes): the path is 855, the limit 1000 …
    paths = running.journaled(lambda: (deep / long_name).write_text("x"))
    assert f"{WORK}/{'a' * 250}/{'b' * 250}/{'c' * 250}/{long_name}" in paths
    longer = "x" * 240  # … and here 1011
    paths = running.journaled(lambda: (deep / longer).write_text("x"))
    assert all(len(p) <= 1000 for p in paths)
    assert f"{WORK}/{'a' * 250}/{'b' * 250}/{'c' * 250}" in paths


def test_stopping_sets_stopped_at_and_keeps_what_was_queued(running, share):
    (share / WORK / "最後.txt").write_text("x")
    running.end()
    r = row(running.root)
    assert r.stopped_at is not None and r.epoch == running.watcher.epoch
    assert ShareChange.objects.filter(root=running.root, epoch=r.epoch, path=f"{WORK}/最後.txt").exists()
    assert running.watcher.inotify is None  # closed


def test_a_second_watcher_on_the_root_makes_the_first_stop(running, share):
    second = Running(share)
    running.thread.join(DEADLINE)
    assert not running.thread.is_alive() and not running.errors
    assert running.watcher.replaced
    r = row(second.root)
    assert r.epoch == second.watcher.epoch and r.stopped_at is None  # the first did not mark the second's row
    assert f"{WORK}/二.txt" in second.journaled(lambda: (share / WORK / "二.txt").write_text("x"))
    assert not ShareChange.objects.filter(epoch=running.watcher.epoch, path=f"{WORK}/二.txt").exists()
    second.end()
    assert row(second.root).stopped_at is not None


def test_it_ends_with_an_error_when_the_root_itself_is_moved(running, share, tmp_path):
    share.rename(tmp_path / "moved")
    running.thread.join(DEADLINE)
    assert not running.thread.is_alive()
    assert [getattr(e, "code", e) for e in running.errors] == ["watch_root_gone"]
    r = row(running.root)
    assert r.overflowed_at is not None and r.stopped_at is not None  # the journal is not to be trusted after it


def test_an_overflow_is_saved_and_the_folders_made_meanwhile_are_watched(share):
    watcher = Watcher(str(share))
    assert watcher.start()
    try:
        assert row(watcher.root).overflowed_at is None
        (share / WORK / "失われた係").mkdir()
        (share / "01_総務課/30_保存用/R05_例規").rename(share / "01_総務課/30_保存用/R06_例規")
        watcher.inotify.read(timeout=0)  # the events the kernel could not queue: never handled
        watcher.handle((-1, flags.Q_OVERFLOW, 0, ""))
        first = row(watcher.root).overflowed_at
        assert first is not None  # saved at once
        assert watcher.step(0)  # watches every folder again, then takes the time again
        assert row(watcher.root).overflowed_at > first and row(watcher.root).folders == 7
        (share / WORK / "失われた係/後.txt").write_text("x")
        (share / "01_総務課/30_保存用/R06_例規/改.pdf").write_bytes(b"%PDF")
        assert watcher.step(0)
        paths = set(ShareChange.objects.filter(epoch=watcher.epoch).values_list("path", flat=True))
        assert {f"{WORK}/失われた係/後.txt", "01_総務課/30_保存用/R06_例規/改.pdf"} <= paths
        assert not any(p.startswith("01_総務課/30_保存用/R05_例規") for p in paths)
    finally:
        watcher.close()
    assert row(watcher.root).stopped_at is not None


def test_paths_stay_pending_until_a_write_succeeds(share):
    watcher = Watcher(str(share))
    assert watcher.start()
    locked, release = threading.Event(), threading.Event()
    if connection.vendor == "postgresql":  # refuse a lock after 200 ms instead of waiting for it
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '200ms'")

    def hold_the_write_lock() -> None:
        try:
            with transaction.atomic():  # SQLite: BEGIN IMMEDIATE, the database's write lock
                if connection.vendor == "postgresql":
                    with connection.cursor() as cursor:
                        cursor.execute(f"LOCK TABLE {ShareWatch._meta.db_table} IN ACCESS EXCLUSIVE MODE")
                else:
                    ShareWatch.objects.filter(root=watcher.root).update(host="locked")
                locked.set()
                release.wait(DEADLINE)
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_write_lock)
    try:
        (share / WORK / "待つ.txt").write_text("x")
        holder.start()
        assert locked.wait(DEADLINE)
        assert watcher.step(0)  # refused by the lock: nothing is lost
        assert f"{WORK}/待つ.txt" in watcher.pending
        release.set()
        holder.join(DEADLINE)
        assert not ShareChange.objects.filter(epoch=watcher.epoch).exists()
        assert watcher.step(0)
        assert not watcher.pending
        assert ShareChange.objects.filter(epoch=watcher.epoch, path=f"{WORK}/待つ.txt").exists()
    finally:
        release.set()
        watcher.close()


def test_too_few_inotify_watches_is_refused_with_the_folder_count(share):
    class FewWatches(INotify):
        """A kernel whose fs.inotify.max_user_watches is 3."""

        def add_watch(self, path, mask):
            if getattr(self, "added", 0) >= 3:
                raise OSError(28, "No space left on device")
            self.added = getattr(self, "added", 0) + 1
            return super().add_watch(path, mask)

    watcher = Watcher(str(share))
    watcher.register()
    watcher.inotify = FewWatches()
    try:
        with pytest.raises(ServiceError) as exc:
            watcher.watch_all()
    finally:
        watcher.close()
    assert exc.value.code == "watch_limit"
    assert "fs.inotify.max_user_watches" in str(exc.value.message) and "フォルダ 6 個" in str(exc.value.message)


def test_an_unreadable_folder_is_listed_as_blind(request, tmp_path, share):
    """The watcher runs as its own process; as root, with the capabilities that read any folder
    taken away (setpriv), so that mode 000 keeps it out as it keeps the `hiroba` user out."""
    closed = share / "01_総務課/10_所属共有/人事"
    (closed / "下").mkdir(parents=True)
    closed.chmod(0)
    try:
        prefix: list[str] = []
        try:
            os.listdir(closed)
            setpriv = shutil.which("setpriv")  # util-linux
            assert setpriv is not None, "setpriv is needed to run the watcher without CAP_DAC_READ_SEARCH"
            prefix = [setpriv, "--bounding-set=-dac_override,-dac_read_search", "--"]
        except PermissionError:
            pass
        blind = "from hiroba.records.models import ShareWatch; w = ShareWatch.objects.get(); print(w.blind, w.folders)"

        def journaled(path: str) -> bool:
            code = f"from hiroba.records.models import ShareChange; print(ShareChange.objects.filter(path={path!r}).exists())"
            return db.shell(code).strip() == "True"

        with processes.shared_database(request, tmp_path) as db:
            proc = db.start(*prefix, str(processes.VENV_BIN / "hiroba"), "records", "watch", str(share), log="watch")
            until(lambda: "変更の監視を始めました" in db.log("watch") or proc.poll() is not None, "the ready line",
                  deadline=PROCESS_DEADLINE)
            assert proc.poll() is None, db.log("watch")
            assert "監視できないフォルダ 1 個" in db.log("watch")
            assert db.shell(blind).strip() == "['01_総務課/10_所属共有/人事'] 7"
            # made readable: watched from then on, itself and what is under it
            closed.chmod(0o755)
            until(lambda: db.shell(blind).strip() == "[] 9", "watched once readable", deadline=PROCESS_DEADLINE)
            assert journaled("01_総務課/10_所属共有/人事")
            (closed / "下/給与.xlsx").write_bytes(b"x")
            until(lambda: journaled("01_総務課/10_所属共有/人事/下/給与.xlsx"), "a file in it journaled",
                  deadline=PROCESS_DEADLINE)
            os.killpg(proc.pid, signal.SIGTERM)
            assert proc.wait(timeout=DEADLINE) == 0, db.log("watch")
    finally:
        closed.chmod(0o755)


def test_a_folder_outside_the_scan_roots_is_refused(tmp_path, settings, capsys):
    settings.RECORDS_SCAN_ROOTS = [str(tmp_path / "allowed")]
    (tmp_path / "allowed").mkdir()
    (tmp_path / "other").mkdir()
    with pytest.raises(ServiceError) as exc:
        Watcher(str(tmp_path / "allowed" / ".." / "other"))
    assert exc.value.code == "root_not_allowed"
    with pytest.raises(SystemExit) as exit_:
        call_command("records", "watch", str(tmp_path / "other"))
    assert exit_.value.code == 2
    assert "RECORDS_SCAN_ROOTS" in capsys.readouterr().err
    assert not ShareWatch.objects.exists()


def test_the_command_runs_until_sigterm(request, tmp_path, share):
    with processes.shared_database(request, tmp_path) as db:
        proc = db.start(str(processes.VENV_BIN / "hiroba"), "records", "watch", str(share), log="watch")
        until(lambda: "変更の監視を始めました" in db.log("watch") or proc.poll() is not None, "the ready line",
              deadline=PROCESS_DEADLINE)
        assert proc.poll() is None, db.log("watch")
        assert f"{os.path.realpath(share)}（フォルダ 6 個）" in db.log("watch")
        (share / WORK / "別プロセス.txt").write_text("x")
        query = (f"from hiroba.records.models import ShareChange; "
                 f"print(ShareChange.objects.filter(path={WORK + '/別プロセス.txt'!r}).exists())")
        # a path may be journaled more than once (its events read in two rounds): at least once
        until(lambda: db.shell(query).strip() == "True", "journaled by the process", deadline=PROCESS_DEADLINE)
        os.killpg(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=DEADLINE) == 0, db.log("watch")
        stopped = db.shell("from hiroba.records.models import ShareWatch; "
                           "print(ShareWatch.objects.get().stopped_at is not None)")
        assert stopped.strip() == "True"
        assert "Traceback" not in db.log("watch")


MOUNTINFO = rb"""22 27 0:21 / /proc rw,relatime - proc proc rw
27 1 253:1 / / rw,relatime - ext4 /dev/vda rw
40 27 0:50 / /srv/share rw,relatime - ext4 /dev/vdb rw
41 40 0:51 / /srv/share/02_\344\274\232\350\250\210\350\252\262\040\346\227\247 rw - cifs //nas/kaikei rw
42 27 0:52 / /mnt/nas rw - nfs4 nas:/export rw
"""


def test_the_mount_table_names_network_folders_below_the_root_and_refuses_a_network_root():
    table = mounts(MOUNTINFO)
    assert ("/srv/share/02_会計課 旧", "cifs") in table
    assert network_mounts("/srv/share", table) == (None, ["02_会計課 旧"])
    assert network_mounts("/srv/share/01_総務課", table) == (None, [])
    assert network_mounts("/mnt/nas/share", table) == ("nfs4", [])
    assert network_mounts("/home", table) == (None, [])
