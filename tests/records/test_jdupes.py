"""The share scanner's duplicate sets equal jdupes' on the same tree (issue 17), with the options
the benchmark uses (`-r -q -H`: zero-length files skipped by both, hard links counted by both,
symbolic links left out by both). jdupes is a Debian package that scripts/system-packages.sh
installs, so CI has it; the test skips where it is missing."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from hiroba.records import naming, sharegen
from hiroba.records.scanner import PARTIAL, Scanner

pytestmark = pytest.mark.skipif(shutil.which("jdupes") is None, reason="jdupes is not installed")


def _bench():
    """bench/records.py, whose jdupes parsing the test shares (one reading of jdupes' output)."""
    path = Path(__file__).resolve().parents[2] / "bench" / "records.py"
    spec = importlib.util.spec_from_file_location("bench_records", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("jdshare")
    sharegen.generate(root, files=800, seed=11)
    extra = root / "extra"
    extra.mkdir()
    (extra / "a.txt").write_bytes(b"same words\n")
    (extra / "b.txt").write_bytes(b"same words\n")
    os.link(extra / "a.txt", extra / "a_link.txt")  # a hard link: a duplicate for both (-H)
    os.symlink("a.txt", extra / "a_symlink.txt")  # a link: neither counts it
    (extra / "empty1").write_bytes(b"")  # zero-length: neither matches them
    (extra / "empty2").write_bytes(b"")
    big = os.urandom(PARTIAL * 3)
    (extra / "big1.bin").write_bytes(big)
    (extra / "big2.bin").write_bytes(big)
    (extra / "big3.bin").write_bytes(big[:-1] + bytes([big[-1] ^ 1]))  # same size and first 64 KB, other end
    (extra / os.fsdecode(b"\x93\xfa\x96{.txt")).write_bytes(b"same words\n")  # a Shift_JIS name
    return root


def test_duplicate_sets_equal_jdupes(tree):
    bench = _bench()
    result = Scanner(str(tree), rules=naming.Rules(naming.DEFAULT_RULES),
                     zones=naming.zones_of(naming.DEFAULT_ZONES)).run()
    theirs = bench.jdupes_sets(tree)
    assert result.duplicates == theirs
    assert sorted(["extra/a.txt", "extra/a_link.txt", "extra/b.txt", "extra/\\x93\\xfa\\x96{.txt"]) in theirs
    assert ["extra/big1.bin", "extra/big2.bin"] in theirs
    assert not any("empty" in p or "symlink" in p or "big3" in p for group in theirs for p in group)
    assert len(theirs) > 10


def test_zero_length_files_are_what_z_would_add(tree):
    """The one option told apart: with `-z` jdupes would also match the empty files."""
    bench = _bench()
    out = subprocess.run(["jdupes", *bench.JDUPES_OPTIONS, "-z", str(tree)], capture_output=True, check=True).stdout
    with_empty = bench.parse_jdupes(out, tree)
    assert [g for g in with_empty if g not in bench.jdupes_sets(tree)] == [["extra/empty1", "extra/empty2"]]
