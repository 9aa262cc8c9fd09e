"""The share scanner on real trees: duplicate sets equal a plain full-hash grouping, bad input is
reported per file, re-scans read only what changed, and nothing on the share is ever touched."""

from __future__ import annotations

import hashlib
import os
import time
from collections import defaultdict
from pathlib import Path

import pytest

from hiroba.records import naming, sharegen
from hiroba.records.scanner import PARTIAL, Scanner


def scanner(root, **kw):
    return Scanner(str(root), rules=naming.Rules(naming.DEFAULT_RULES), zones=naming.zones_of(naming.DEFAULT_ZONES),
                   **kw)


def reference_duplicates(root: Path) -> list[list[str]]:
    """What jdupes -r reports: groups of non-empty regular files with identical content."""
    groups = defaultdict(list)
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            p = Path(dirpath) / name
            if p.is_symlink() or not p.is_file() or p.stat().st_size == 0:
                continue
            groups[hashlib.sha256(p.read_bytes()).hexdigest()].append(p.relative_to(root).as_posix())
    return sorted(sorted(g) for g in groups.values() if len(g) > 1)


def snapshot(root: Path) -> dict[str, tuple[int, int, str]]:
    out = {}
    for dirpath, dirs, files in os.walk(root):
        for name in dirs + files:
            p = Path(dirpath) / name
            st = p.lstat()
            out[str(p)] = (st.st_size, st.st_mtime_ns, hashlib.md5(p.read_bytes()).hexdigest() if p.is_file()
                           and not p.is_symlink() else "")
    return out


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("share")
    made = sharegen.generate(root, files=1500, seed=3)
    return root, made


def test_duplicate_sets_equal_a_full_content_comparison(tree):
    root, made = tree
    result = scanner(root).run()
    assert result.files == made["files"] == 1500
    assert result.bytes == made["bytes"]
    assert result.duplicates == reference_duplicates(root)
    assert len(result.duplicates) > 20


def test_large_files_that_share_their_first_64kb_are_told_apart(tmp_path):
    head = os.urandom(PARTIAL)
    (tmp_path / "10_所属共有").mkdir()
    a, b, c = (tmp_path / "10_所属共有" / n for n in ("R06_a.bin", "R06_b.bin", "R06_c.bin"))
    a.write_bytes(head + b"x" * 1000)
    b.write_bytes(head + b"y" * 1000)  # same size, same first 64 KB, different content
    c.write_bytes(head + b"x" * 1000)
    result = scanner(tmp_path).run()
    assert result.duplicates == [["10_所属共有/R06_a.bin", "10_所属共有/R06_c.bin"]]


def test_the_report_names_rules_stale_files_and_capacity(tree):
    root, made = tree
    result = scanner(root).run()
    rules = {v.rule for v in result.violations}
    assert {"forbidden_words", "personal_name", "temporary_file", "forbidden_chars", "depth_limit",
            "leading_fiscal_year"} <= rules
    copy = next(v for v in result.violations if v.path.endswith(" - コピー.docx") or v.path.endswith(" - コピー.xlsx")
                or " - コピー." in v.path)
    assert "コピー" not in copy.suggestion and copy.suggestion.rsplit("/", 1)[0] == copy.path.rsplit("/", 1)[0]
    assert len(result.stale) == made["stale"]
    assert all("/20_作業用/" in p for p in result.stale)
    assert sum(result.capacity_type.values()) == result.bytes == sum(result.capacity_department.values())
    assert set(result.capacity_age) <= {"1年未満", "1〜3年", "3〜5年", "5〜10年", "10年以上"}


def test_a_rescan_reads_only_changed_files_and_finds_the_same_sets(tree, tmp_path):
    root, _ = tree
    first = scanner(root).run()
    assert first.hashed > 0
    again = scanner(root, previous=first.entries).run()
    assert again.hashed == 0
    assert again.duplicates == first.duplicates
    # change one file of a duplicate set (same size, new content): only it is read again
    target = root / first.duplicates[0][0]
    original, st = target.read_bytes(), target.stat()
    try:
        target.write_bytes(bytes(reversed(original)))
        os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
        changed = scanner(root, previous=again.entries).run()
        assert changed.hashed == 1
        assert changed.duplicates == reference_duplicates(root)
    finally:
        target.write_bytes(original)
        os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))


def test_the_scanner_never_changes_the_share(tree):
    root, _ = tree
    before = snapshot(root)
    scanner(root).run()
    assert snapshot(root) == before


def test_bad_input_is_reported_per_file_and_the_scan_goes_on(tmp_path, monkeypatch):
    share = tmp_path / "10_所属共有"
    share.mkdir()
    (share / "R06_ok.txt").write_text("ok")
    os.symlink(share / "missing.txt", share / "broken-link")
    os.symlink(share / "loop-b", share / "loop-a")
    os.symlink(share / "loop-a", share / "loop-b")
    os.symlink(tmp_path, share / "up")  # a link to a folder above: never followed
    sjis = os.fsencode(str(share)) + b"/" + "R06_予算.txt".encode("cp932")
    with open(sjis, "wb") as f:
        f.write(b"sjis")
    with open(os.fsencode(str(share)) + b"/bad\xff\xfe.txt", "wb") as f:
        f.write(b"bytes")
    locked = share / "locked"
    locked.mkdir()
    (locked / "secret.txt").write_text("x")
    real_scandir = os.scandir

    def scandir(path):  # an unreadable folder (chmod 0 does not stop root, who runs CI here)
        if str(path) == str(locked):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr("hiroba.records.scanner.os.scandir", scandir)
    result = scanner(tmp_path).run()
    reasons = {(e["path"], e["reason"]) for e in result.errors}
    assert ("10_所属共有/broken-link", "broken_symlink") in reasons
    assert ("10_所属共有/loop-a", "symlink_loop") in reasons
    assert ("10_所属共有/locked", "unreadable") in reasons
    assert result.files == 3  # ok, the Shift_JIS name, the undecodable one; links are not counted
    encoding = [v for v in result.violations if v.rule == "name_encoding"]
    assert {v.suggestion for v in encoding} == {"R06_予算.txt", ""}
    import json

    json.dumps(result.as_json(), ensure_ascii=False).encode("utf-8")  # every path is valid text


def test_a_file_that_vanishes_before_it_is_hashed_is_an_error_not_a_crash(tmp_path, monkeypatch):
    share = tmp_path / "10_所属共有"
    share.mkdir()
    for n in ("R06_a.txt", "R06_b.txt"):
        (share / n).write_text("same")
    s = scanner(tmp_path)
    walk = s._walk

    def vanishing(result):
        yield from walk(result)
        (share / "R06_b.txt").unlink()

    monkeypatch.setattr(s, "_walk", vanishing)
    result = s.run()
    assert {"path": "10_所属共有/R06_b.txt", "reason": "vanished"} in result.errors
    assert result.duplicates == []


def test_stale_is_measured_from_the_guideline_days(tmp_path):
    work = tmp_path / "20_作業用" / "庶務係"
    work.mkdir(parents=True)
    old, new = work / "R05_古い下書き.docx", work / "R06_下書き.docx"
    old.write_text("a")
    new.write_text("b")
    t = time.time() - 100 * 86400
    os.utime(old, (t, t))
    assert scanner(tmp_path, stale_days=90).run().stale == ["20_作業用/庶務係/R05_古い下書き.docx"]
    assert scanner(tmp_path, stale_days=180).run().stale == []
