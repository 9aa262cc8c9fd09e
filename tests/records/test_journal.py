"""A re-scan from the change journal (issue 17): with a watcher journaling the root since the
previous scan began, only the journaled paths are looked at, and every report equals what a
walk of every file finds. The watcher is stood in for here by its rows (tests/records/test_watch.py
runs the real one): a ready ShareWatch that has written everything, and a ShareChange per path."""

from __future__ import annotations

import os
import random
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from hiroba.records import naming, scans, sharegen
from hiroba.records.models import InventoryFile, Scan, ScanFinding, ScanState, ShareChange, ShareWatch
from hiroba.records.scanner import PARTIAL, Scanner

pytestmark = pytest.mark.django_db

REPORTS = ("capacity_folder", "capacity_type", "capacity_age", "capacity_zone", "capacity_department")
DAY = 86400


def _walk(root: Path):
    return Scanner(str(root), rules=naming.Rules(naming.DEFAULT_RULES), zones=naming.zones_of(naming.DEFAULT_ZONES)).run()


def _watching(root: Path, epoch: str = "e1") -> ShareWatch:
    now = timezone.now()
    watch, _ = ShareWatch.objects.update_or_create(
        root=os.path.realpath(root), defaults={"epoch": epoch, "started_at": now, "ready_at": now,
                                               "drained_at": now + timedelta(hours=1), "stopped_at": None,
                                               "overflowed_at": None})
    return watch


def _journal(root: Path, *paths: str, epoch: str = "e1") -> None:
    ShareChange.objects.bulk_create(ShareChange(root=os.path.realpath(root), epoch=epoch, path=p) for p in paths)


def _same(found, walked) -> None:
    """The re-scan's result is the walk's: figures, sets, findings (in any order), errors."""
    assert (found.files, found.bytes, found.folders) == (walked.files, walked.bytes, walked.folders)
    assert found.duplicates == walked.duplicates
    key = lambda v: (v.path, v.kind, v.rule, v.message, v.suggestion)  # noqa: E731
    assert sorted(map(key, found.violations)) == sorted(map(key, walked.violations))
    assert sorted(found.stale) == sorted(walked.stale)
    assert sorted(e.items() for e in found.errors) == sorted(e.items() for e in walked.errors)
    for report in REPORTS:
        assert dict(getattr(found, report)) == dict(getattr(walked, report)), report


def _stored(root: str) -> tuple:
    scan = Scan.objects.filter(root=root).order_by("-started_at", "-id").first()
    figures = (scan.files, scan.folders, scan.bytes, scan.duplicate_sets, scan.duplicate_bytes, scan.violation_count,
               scan.stale_count, scan.error_count, scan.capacity)
    findings = sorted(ScanFinding.objects.filter(root=root).values_list("kind", "path", "rule", "message", "suggestion"))
    files = sorted(InventoryFile.objects.filter(root=root).values_list("path", "size", "mtime_ns"))
    return figures, findings, files


def _rewrite(p: Path, data: bytes) -> None:
    st = p.stat()
    p.write_bytes(data)
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))


@pytest.fixture
def share(tmp_path):
    root = tmp_path / "share"
    sharegen.generate(root, files=1500, seed=33)
    big = root / "01_総務課" / "10_所属共有"
    big.mkdir(parents=True, exist_ok=True)
    payload = random.Random(5).randbytes(PARTIAL * 2 + 17)
    for name in ("R06_大きい報告書_A.pdf", "R06_大きい報告書_B.pdf"):  # duplicates over 64 KB
        (big / name).write_bytes(payload)
    (big / "R06_先頭だけ同じ報告書.pdf").write_bytes(payload[:PARTIAL] + b"x" * (PARTIAL + 17))
    return root


def test_a_rescan_from_the_journal_looks_only_at_the_journaled_paths_and_finds_what_a_walk_does(share):
    root = os.path.realpath(share)
    _watching(share)
    scan1, first = scans.run_scan(actor="test", path=str(share))
    assert scan1.journal_paths is None  # the first scan walks every file
    state = ScanState.objects.get(root=root)
    assert state.data["epoch"] == "e1" and state.scan_id == scan1.pk
    rng = random.Random(7)
    files = sorted(first.entries)
    small = [p for p in files if 0 < first.entries[p][0] <= PARTIAL]
    changed = []
    # content rewritten, same size (leaves its duplicate group, if any)
    dup = next(g for g in first.duplicates if all(first.entries[p][0] <= PARTIAL for p in g))
    target = share / dup[0]
    _rewrite(target, bytes(reversed(target.read_bytes())) + b"!")
    changed.append(dup[0])
    # a new copy of an existing file (joins or makes a group), a copy of a file nobody shared a size with
    src = rng.choice(small)
    copy = str(Path(src).parent / "R06_写し.txt")
    shutil.copy2(share / src, share / copy)
    changed.append(copy)
    sizes = {}
    for p, e in first.entries.items():
        sizes.setdefault(e[0], []).append(p)
    lonely = next(p for p, e in first.entries.items() if e[0] > 0 and len(sizes[e[0]]) == 1)
    twin = str(Path(lonely).parent / "R06_ひとりの写し.txt")
    shutil.copy2(share / lonely, share / twin)
    changed.append(twin)
    # the 64 KB look-alike becomes a real duplicate of the big pair; one of the pair is removed
    big = "01_総務課/10_所属共有"
    (share / big / "R06_先頭だけ同じ報告書.pdf").write_bytes((share / big / "R06_大きい報告書_A.pdf").read_bytes())
    (share / big / "R06_大きい報告書_B.pdf").unlink()
    changed += [f"{big}/R06_先頭だけ同じ報告書.pdf", f"{big}/R06_大きい報告書_B.pdf"]
    # a removed file, a removed folder, a new folder with a badly named file, a renamed folder
    removed = rng.choice(files)
    (share / removed).unlink()
    changed.append(removed)
    folders = sorted({str(Path(p).parent) for p in files if p.count("/") >= 3})
    gone_folder = folders[3]
    shutil.rmtree(share / gone_folder)
    changed.append(gone_folder)
    new_folder = f"{big}/新しいフォルダー"
    (share / new_folder / "深い" / "もっと深い").mkdir(parents=True)
    (share / new_folder / "R06_予算要求メモ - コピー.txt").write_text("メモ", encoding="utf-8")
    (share / new_folder / "深い" / "もっと深い" / "R06_予算要求メモ.txt").write_text("メモ", encoding="utf-8")
    changed.append(new_folder)
    moved_from = folders[10]
    moved_to = str(Path(moved_from).parent / "R06_移した資料")
    os.rename(share / moved_from, share / moved_to)
    changed += [moved_from, moved_to]
    # a work file made old (now stale), a stale work file touched (not stale any more)
    work = [p for p in files if "/20_作業用/" in p and p not in changed and not p.startswith(gone_folder + "/")
            and not p.startswith(moved_from + "/")]
    fresh = next(p for p in work if p not in first.stale)
    old = time_ago = (timezone.now() - timedelta(days=400)).timestamp()
    os.utime(share / fresh, (old, time_ago))
    touched = next(p for p in work if p in first.stale and p != fresh)
    os.utime(share / touched)
    changed += [fresh, touched]
    # a broken link and an unreadable-as-a-file path (a link is never followed nor counted)
    os.symlink("どこにもない.txt", share / big / "壊れたリンク.txt")
    changed.append(f"{big}/壊れたリンク.txt")
    _journal(share, *changed, *changed[:3])  # a path journaled more than once is looked at once

    scan2, again = scans.run_scan(actor="test", path=str(share))
    assert scan2.journal_paths == len(set(changed))
    walked = _walk(share)
    _same(again, walked)
    assert sorted([f"{big}/R06_大きい報告書_A.pdf", f"{big}/R06_先頭だけ同じ報告書.pdf"]) in again.duplicates
    assert sorted([lonely, twin]) in again.duplicates
    assert fresh in again.stale and touched not in again.stale
    assert {"path": f"{big}/壊れたリンク.txt", "reason": "broken_symlink"} in again.errors
    assert again.hashed < 50  # the journaled files and the few they may duplicate, not the share
    assert not ShareChange.objects.filter(root=root).exists()  # looked past: pruned
    # what is stored is what a walk of every file stores
    after_journal = _stored(root)
    ShareWatch.objects.all().delete()
    scan3, _ = scans.run_scan(actor="test", path=str(share))
    assert scan3.journal_paths is None
    assert _stored(root) == after_journal


def test_journal_rescans_in_a_row_stay_equal_to_a_walk(share):
    _watching(share)
    _, result = scans.run_scan(actor="test", path=str(share))
    rng = random.Random(11)
    for round_ in range(4):
        files = sorted(result.entries) if round_ == 0 else sorted(_walk(share).entries)
        picked = rng.sample(files, 25)
        for p in picked[:15]:
            _rewrite(share / p, (share / p).read_bytes()[::-1] + b"\n")
        for p in picked[15:20]:
            (share / p).unlink()
        for i, p in enumerate(picked[20:]):  # copies: new duplicates
            shutil.copy2(share / p, share / Path(p).parent / f"R06_写し{round_}{i}.txt")
        _journal(share, *picked, *(str(Path(p).parent / f"R06_写し{round_}{i}.txt") for i, p in enumerate(picked[20:])))
        lists = round_ % 2 == 0
        scan, result = scans.run_scan(actor="test", path=str(share), findings=lists)
        assert scan.journal_paths is not None
        walked = _walk(share)
        if lists:
            _same(result, walked)
        else:  # the counts only, read from the stored findings
            assert result.counted == (len(walked.violations), len(walked.stale)) == (scan.violation_count,
                                                                                     scan.stale_count)
            assert result.duplicates == walked.duplicates and result.files == walked.files
            result = walked


def test_the_walk_stands_in_when_the_journal_cannot(share):
    root = os.path.realpath(share)
    # no watcher: every file is walked
    scan, _ = scans.run_scan(actor="test", path=str(share))
    assert scan.journal_paths is None
    watch = _watching(share)
    scan, _ = scans.run_scan(actor="test", path=str(share))
    assert scan.journal_paths is None  # the previous scan began before the watcher was there
    _journal(share, "01_総務課/00_全庁共有")
    scan, _ = scans.run_scan(actor="test", path=str(share))
    assert scan.journal_paths == 1
    # the kernel dropped changes since the previous scan began
    ShareWatch.objects.filter(pk=watch.pk).update(overflowed_at=timezone.now())
    scan, _ = scans.run_scan(actor="test", path=str(share))
    assert scan.journal_paths is None
    scan, _ = scans.run_scan(actor="test", path=str(share))
    assert scan.journal_paths == 0  # the overflow was before this scan's predecessor began
    # another run of the watcher (restarted: what changed in between is in no journal)
    _watching(share, epoch="e2")
    scan, _ = scans.run_scan(actor="test", path=str(share))
    assert scan.journal_paths is None
    # a watcher that stopped, or that has written nothing for a while
    ShareWatch.objects.filter(root=root).update(stopped_at=timezone.now())
    assert scans.journal_position(root) is None
    ShareWatch.objects.filter(root=root).update(stopped_at=None, drained_at=timezone.now() - timedelta(minutes=5))
    assert scans.journal_position(root) is None
    # other rules in force
    _watching(share, epoch="e2")
    state = ScanState.objects.get(root=root)
    state.data["conditions"]["rules"] = "other"
    state.save()
    scan, _ = scans.run_scan(actor="test", path=str(share))
    assert scan.journal_paths is None
    # a journal naming a folder of the root itself (the zones could change)
    _journal(share, "01_総務課", epoch="e2")
    scan, _ = scans.run_scan(actor="test", path=str(share))
    assert scan.journal_paths is None
