"""An incremental re-scan (issue 17): the inventory is updated in place, the naming results of
files the previous scan knew are reused while the rules are the same, and every report equals
what a full scan of the same share finds."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hiroba.records import naming, scans, sharegen
from hiroba.records.models import InventoryFile, Scan
from hiroba.records.scanner import Scanner

pytestmark = pytest.mark.django_db

REPORTS = ("capacity_folder", "capacity_type", "capacity_age", "capacity_zone", "capacity_department")


def _full_scan(root: Path):
    return Scanner(str(root), rules=naming.Rules(naming.DEFAULT_RULES), zones=naming.zones_of(naming.DEFAULT_ZONES)).run()


def _inventory(root: str) -> dict[str, tuple[int, int, str, str]]:
    return {p: (s, m, a, b) for p, s, m, a, b in InventoryFile.objects.filter(root=root).values_list(
        "path", "size", "mtime_ns", "partial_hash", "full_hash")}


@pytest.fixture
def checks(monkeypatch):
    """The names Rules.check is asked about (files only)."""
    asked: list[str] = []
    real = naming.Rules.check

    def counting(self, name, *, is_dir, **kw):
        if not is_dir:
            asked.append(name)
        return real(self, name, is_dir=is_dir, **kw)

    monkeypatch.setattr(naming.Rules, "check", counting)
    return asked


def test_a_rescan_checks_only_new_names_and_reports_what_a_full_scan_does(tmp_path, checks, monkeypatch):
    share = tmp_path / "share"
    sharegen.generate(share, files=900, seed=21)
    scan1, first = scans.run_scan(actor="test", path=str(share))
    assert scan1.rules_digest == naming.Rules(naming.DEFAULT_RULES).digest
    assert first.files == 900
    assert sorted(checks) == sorted({p.rpartition("/")[2] for p in first.entries})  # each name once
    assert sum(len(v) > 1 for v in _by_path(first.violations).values()) > 0  # names breaking several rules
    ids = dict(InventoryFile.objects.values_list("path", "id"))
    # change the share: one file rewritten, one removed, one badly named file added
    changed, removed = sorted(first.entries)[10], sorted(first.entries)[20]
    target = share / changed
    target.write_bytes(b"new content " + target.read_bytes())
    (share / removed).unlink()
    folder = Path(changed).parent
    new_name = "田中さん用_最新 - コピー（2）.docx"
    (share / folder / new_name).write_bytes(target.read_bytes())  # a copy of the changed file, too
    checks.clear()
    scan2, again = scans.run_scan(actor="test", path=str(share))
    assert checks == [new_name]  # the 899 names the previous scan knew are not checked again
    full = _full_scan(share)
    assert again.as_json() == full.as_json()  # the same violations in the same order, sets, stale, errors
    assert sorted([str(folder / new_name), changed]) in again.duplicates
    for report in REPORTS:
        assert list(getattr(again, report).items()) == list(getattr(full, report).items()), report
    # the inventory is updated in place: the changed row keeps its id, the removed one is gone
    inventory = _inventory(scan2.root)
    assert inventory == again.entries
    after = dict(InventoryFile.objects.values_list("path", "id"))
    assert after[changed] == ids[changed] and removed not in after
    assert all(after[p] == pk for p, pk in ids.items() if p != removed)
    # other rules (here: another version of the check): every name is checked again
    monkeypatch.setattr(naming, "CHECK_VERSION", naming.CHECK_VERSION + 1)
    checks.clear()
    scan3, third = scans.run_scan(actor="test", path=str(share))
    assert sorted(checks) == sorted({p.rpartition("/")[2] for p in third.entries})
    assert third.files == 900 and scan3.rules_digest != scan2.rules_digest
    assert third.as_json() == full.as_json()


def test_a_scan_recorded_before_the_digest_checks_every_name(tmp_path, checks):
    share = tmp_path / "share"
    sharegen.generate(share, files=200, seed=4)
    scans.run_scan(actor="test", path=str(share))
    Scan.objects.update(rules_digest="")  # as the scans made before the migration are
    checks.clear()
    _scan, again = scans.run_scan(actor="test", path=str(share))
    assert sorted(checks) == sorted({p.rpartition("/")[2] for p in again.entries}) and again.files == 200
    assert again.as_json() == _full_scan(share).as_json()


def test_a_long_path_whose_stored_finding_was_cut_is_checked_again(tmp_path, checks):
    share = tmp_path / "share"
    deep = share / "10_所属共有" / "R06_資料"
    for _ in range(13):  # 13 folders of 77 characters (231 bytes, under the 255-byte limit of a name)
        deep = deep / ("長い名前の作業フォルダ" * 7)
    deep.mkdir(parents=True)
    name = "田中さん用_" + "資料" * 30 + ".txt"
    (deep / name).write_text("x")
    rel = os.path.relpath(deep / name, share).replace(os.sep, "/")
    assert len(rel) > 1000  # longer than the stored path: the inventory and the finding hold it cut
    _scan, first = scans.run_scan(actor="test", path=str(share))
    checks.clear()
    _scan, again = scans.run_scan(actor="test", path=str(share))
    assert name in checks
    assert [v.rule for v in again.violations if v.path == rel] == [v.rule for v in first.violations if v.path == rel]
    assert {"personal_name", "file_length"} <= {v.rule for v in again.violations if v.path == rel}
    assert again.as_json() == first.as_json()


def _by_path(violations):
    out: dict[str, list[str]] = {}
    for v in violations:
        if v.kind == "naming":
            out.setdefault(v.path, []).append(v.rule)
    return out
