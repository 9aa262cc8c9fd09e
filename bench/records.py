"""Benchmark of the share scanner (`hiroba records scan`), ratios measured in one run.

    python bench/records.py                         # 1,000,000 files in a temporary folder
    python bench/records.py --files 100000          # quick run
    python bench/records.py --tree /path --keep     # reuse (or keep) a generated tree
    DATABASE_URL=postgres://… python bench/records.py

1. Generates a share tree (`hiroba.records.sharegen`: departments, zones, fiscal years, ~5 %
   duplicates, small lognormal sizes) unless --tree names an existing one.
2. Baseline, on the same tree: `find TREE -printf '%s %T@\\n'` (size and mtime of everything)
   plus `jdupes -r -q -H TREE` (the time of both added; jdupes 1.21 from Debian, installed by
   scripts/system-packages.sh). The options are aligned with the scanner: both skip zero-length
   files (jdupes' default; `-z` would match them), both leave symbolic links out, and `-H` makes
   jdupes count hard links to one file as duplicates, as the scanner does (it groups names, not
   inodes). The duplicate sets must be equal. Without jdupes (not the CI case) the sets are
   checked against a plain full-content grouping (SHA-256 of every file in a size group) and the
   baseline is find alone — say so when quoting the figure. The CPU time (user + system) of
   both is printed beside the wall-clock ratio: on a loaded machine it moves less.
3. `hiroba records watch TREE` started (the change journal, inotify) and ready, then the full
   scan through `scans.run_scan` (every report, the inventory and findings stored in a fresh
   database), then a re-scan after changing 1 % of the files (same size, new content, new
   mtime): from the journal, as a ward with the watcher on its file server scans.
4. The watcher stopped, another 1 % changed, and a re-scan that walks every file (a share the
   watcher cannot see: a network mount), for comparison; its ratio has no target.
Prints times and CPU times, ratios (baseline / scan, target ≥ 1; first scan / re-scan from the
journal, target ≥ 10), whether the duplicate sets equal the reference's after every scan, and the
peak memory (max RSS). Exits 1 when a target is missed or the sets differ.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


JDUPES_OPTIONS = ["-r", "-q", "-H"]  # recurse, no progress, hard links count (zero-length files skipped)


def parse_jdupes(out: bytes, tree: Path) -> list[list[str]]:
    """jdupes' printed sets (paths a line, a blank line between sets) as sorted relative paths;
    names that are not UTF-8 read with \\xNN, as the scanner shows them."""
    sets: list[list[str]] = []
    for block in out.decode("utf-8", "backslashreplace").split("\n\n"):
        paths = [line for line in block.splitlines() if line]
        if len(paths) > 1:
            sets.append(sorted(os.path.relpath(p, tree).replace(os.sep, "/") for p in paths))
    return sorted(sets)


def jdupes_sets(tree: Path) -> list[list[str]] | None:
    exe = shutil.which("jdupes")
    if exe is None:
        return None
    done = subprocess.run([exe, *JDUPES_OPTIONS, str(tree)], capture_output=True, check=False)
    return parse_jdupes(done.stdout, tree)


def reference_sets(tree: Path) -> list[list[str]]:
    by_size: dict[int, list[str]] = defaultdict(list)
    for dirpath, _dirs, files in os.walk(tree):
        for name in files:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            if st.st_size and not os.path.islink(p):
                by_size[st.st_size].append(p)
    groups: dict[str, list[str]] = defaultdict(list)
    for paths in by_size.values():
        if len(paths) > 1:
            for p in paths:
                with open(p, "rb") as f:
                    groups[hashlib.sha256(f.read()).hexdigest()].append(os.path.relpath(p, tree))
    return sorted(sorted(g) for g in groups.values() if len(g) > 1)


def cpu(who: int = resource.RUSAGE_SELF) -> float:
    """User + system CPU seconds of this process (all its threads) or of its waited-for children."""
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def timed(fn, *args, **kwargs):
    t = time.perf_counter()
    value = fn(*args, **kwargs)
    return time.perf_counter() - t, value


def drop_caches_hint() -> None:
    # Both the baseline and the scan run on a warm page cache (the tree was just written or read);
    # each is run once after a warm-up walk so that neither gets the cold cache alone.
    subprocess.run(["find", ".", "-type", "f"], cwd=TREE, capture_output=True, check=False)


def setup_django(tmp: Path) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hiroba.settings")
    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp / 'bench.sqlite3'}"
    else:
        from urllib.parse import urlsplit, urlunsplit

        parts = urlsplit(os.environ["DATABASE_URL"])
        name = parts.path.lstrip("/") + "_bench_records"
        admin = urlunsplit(parts._replace(path="/postgres"))
        import psycopg

        with psycopg.connect(admin.replace("postgres://", "postgresql://"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path="/" + name))
    os.environ.setdefault("HIROBA_DATA_DIR", str(tmp))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


TREE: Path


def change_one_percent(paths: list[str], *, seed: int) -> None:
    """1 % of the files rewritten: same size, new content (reversed), mtime a second later."""
    rng = random.Random(seed)
    for rel in rng.sample(paths, max(1, len(paths) // 100)):
        p = TREE / rel
        data = p.read_bytes()
        p.write_bytes(bytes(reversed(data)) if len(set(data)) > 1 else data + b"!")
        st = p.stat()
        os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))


def start_watcher(tree: Path) -> subprocess.Popen[bytes]:
    """`hiroba records watch TREE` in its own process (as systemd runs it), once it is ready."""
    from hiroba.records.models import ShareWatch

    watcher = subprocess.Popen([sys.executable, "-c", "from hiroba.cli import main; main()", "records", "watch",
                                str(tree)], env=os.environ.copy(), stdout=subprocess.PIPE)
    assert watcher.stdout is not None
    line = watcher.stdout.readline().decode()  # printed once every folder is watched
    if not line or not ShareWatch.objects.filter(root=os.path.realpath(tree), ready_at__isnull=False).exists():
        watcher.kill()
        raise SystemExit(f"the watcher did not start: {line!r}")
    print(line.strip())
    return watcher


def stop_watcher(watcher: subprocess.Popen[bytes]) -> None:
    watcher.terminate()
    try:
        watcher.wait(timeout=30)
    except subprocess.TimeoutExpired:
        watcher.kill()


def main() -> int:
    global TREE
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=1_000_000)
    parser.add_argument("--tree", default=None)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench_records_"))
    TREE = Path(args.tree) if args.tree else tmp / "share"
    from hiroba.records import sharegen

    if not TREE.exists() or not any(TREE.iterdir()):
        t, made = timed(sharegen.generate, TREE, files=args.files, seed=2025, size_mu=7.8)
        print(f"generated {made['files']:,} files, {made['bytes'] / 1e9:.2f} GB, {made['duplicates']:,} duplicate "
              f"copies in {t:.0f} s")
    drop_caches_hint()
    print("load average (1, 5, 15 min) at the start: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    cpu_children = cpu(resource.RUSAGE_CHILDREN)
    t_find, _ = timed(subprocess.run, ["find", str(TREE), "-printf", "%s %T@\n"],
                      stdout=subprocess.DEVNULL, check=True)
    t_jdupes, jd = timed(jdupes_sets, TREE)
    if jd is None:
        t_jdupes = 0.0
        print("jdupes is not installed: baseline = find alone; duplicate sets checked against a full-content grouping")
    baseline = t_find + t_jdupes
    cpu_baseline = cpu(resource.RUSAGE_CHILDREN) - cpu_children
    setup_django(tmp)
    from hiroba.records import scans

    watcher = start_watcher(TREE)
    try:
        cpu_before = cpu()
        t_scan, (scan, result) = timed(scans.run_scan, actor="bench", path=str(TREE))
        cpu_scan = cpu() - cpu_before
        reference = jd if jd is not None else reference_sets(TREE)
        same = result.duplicates == reference
        rss_first = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        paths = sorted(result.entries)
        change_one_percent(paths, seed=1)
        cpu_before = cpu()
        # the counts of the findings, not their lists (the CLI reads the lists back only for --json)
        t_rescan, (scan2, result2) = timed(scans.run_scan, actor="bench", path=str(TREE), findings=False)
        cpu_rescan = cpu() - cpu_before
    finally:
        stop_watcher(watcher)
    same2 = result2.duplicates == (jdupes_sets(TREE) if jd is not None else reference_sets(TREE))
    change_one_percent(paths, seed=2)
    t_walk, (scan3, result3) = timed(scans.run_scan, actor="bench", path=str(TREE))
    same3 = result3.duplicates == (jdupes_sets(TREE) if jd is not None else reference_sets(TREE))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    from django.db import connection

    print(f"database: {connection.vendor}; files {result.files:,}, {result.bytes / 1e9:.2f} GB, "
          f"{len(result.duplicates):,} duplicate sets, {len(result.violations):,} violations, "
          f"{len(result.stale):,} stale, {len(result.errors):,} errors")
    print(f"baseline: find {t_find:.1f} s + jdupes {' '.join(JDUPES_OPTIONS)} {t_jdupes:.1f} s = {baseline:.1f} s"
          + ("" if jd is not None else " (jdupes not installed: find alone)"))
    print(f"full scan (walk, hashes, rules, report, inventory stored): {t_scan:.1f} s "
          f"(walk and hashing {result.seconds:.1f} s, {result.hashed:,} files read); "
          f"ratio baseline/scan = {baseline / t_scan:.2f} (target ≥ 1)")
    print(f"CPU time (user + system; less sensitive to a loaded machine than the wall clock): baseline "
          f"{cpu_baseline:.1f} s, full scan {cpu_scan:.1f} s (in this process: SQLite's work is counted, a "
          f"PostgreSQL server's is not); ratio {cpu_baseline / cpu_scan:.2f}")
    if scan2.journal_paths is None:
        print("the re-scan did not read the journal (the watcher was not ready or fell behind): it walked every file")
    print(f"re-scan after changing 1 %, from the journal: {t_rescan:.2f} s ({scan2.journal_paths or 0:,} journaled "
          f"paths looked at, {result2.hashed:,} files read); ratio first/re-scan = {t_scan / t_rescan:.1f} "
          f"(target ≥ 10); CPU {cpu_rescan:.2f} s, ratio {cpu_scan / cpu_rescan:.1f}")
    print(f"re-scan after another 1 %, the watcher stopped (every file walked, unchanged ones not read): "
          f"{t_walk:.2f} s ({result3.hashed:,} files read); ratio first/re-scan = {t_scan / t_walk:.1f} (no target)")
    print(f"duplicate sets equal {'jdupes' if jd is not None else 'the full-content grouping'}'s: "
          f"first {same} ({len(reference):,} sets), re-scan from the journal {same2}, walking re-scan {same3}")
    print(f"peak memory (max RSS): {rss_first:.0f} MB after the first scan, {rss:.0f} MB in all")
    print("load average (1, 5, 15 min) at the end: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    if not args.keep:  # the database (and the tree, when generated here); a --tree given is outside it
        shutil.rmtree(tmp, ignore_errors=True)
    ok = (same and same2 and same3 and scan2.journal_paths is not None and baseline / t_scan >= 1
          and t_scan / t_rescan >= 10)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
