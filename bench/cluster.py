"""Scale-out benchmark: the full submission path through nginx with 1 app server and with 2,
measured in the same run on the same PostgreSQL database (scripts/cluster.sh starts each); then
the readers: the published results page read by --readers concurrent anonymous readers through
nginx with the page cache off and on (hiroba.core.pagecache), each cache backend asked for.

    python bench/cluster.py                   # 6 s per phase, 16 connections, 200 readers
    python bench/cluster.py --duration 10 --concurrency 32 --web-workers 2
    python bench/cluster.py --only readers --cache db,redis://127.0.0.1:6379/5

Each app server runs the same gunicorn workers (--web-workers, gthread), with the task workers and
the audit chainer beside them, all on this machine's cores: the ratio 2 servers / 1 server is what
scale-out buys *on this machine*. The target (issue 20) is ≥ 1.6 where the machine has the cores for
it (each app server its own cores); with fewer cores than app-server processes the ratio is printed
as it is and per core, since both phases then share the same cores.

The readers' target (issue 20) is the results page through the cache at >= 10x its uncached rate;
the page is the seed consultation's (shared/fixtures, imported as published), the database the
same PostgreSQL one, the baseline (HIROBA_PAGECACHE_SECONDS=0) measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.deploy import cluster as lib  # noqa: E402

intake = lib.intake


def phase(c: lib.Cluster, apps: int, args: argparse.Namespace) -> dict:
    c.env["CLUSTER_APPS"] = str(apps)
    c.apps = apps
    c.script("start")
    try:
        intake.flood(c.port, "full", duration=2, concurrency=args.concurrency, processes=2)  # warm-up
        results = intake.flood(c.port, "full", duration=args.duration, concurrency=args.concurrency, processes=2)
    finally:
        c.script("stop")
    summary = intake.summarise(results, args.duration)
    return {"app_servers": apps, "web_workers_each": args.web_workers, **summary}


RESULTS_SLUG = "bench-results"
SEED = ROOT / "src" / "hiroba" / "consultations" / "fixtures" / "chiyoda-dx-strategy-2025" / "consultation.json"


def publish_seed(c: lib.Cluster) -> str:
    """The seed consultation imported as published: the results page the readers read."""
    done = c.hiroba("consultation", "import", str(SEED), "--slug", RESULTS_SLUG)
    if done.returncode != 0:
        sys.exit(f"could not import the seed consultation:\n{done.stdout}\n{done.stderr}")
    return f"/consultations/{RESULTS_SLUG}/results/"


def readers(c: lib.Cluster, path: str, args: argparse.Namespace, *, cache: str, seconds: int) -> dict:
    """`args.readers` keep-alive readers GET `path` through nginx for `args.duration` seconds."""
    c.env["CLUSTER_APPS"], c.apps = str(args.reader_apps), args.reader_apps
    c.env["HIROBA_PAGECACHE_SECONDS"] = str(seconds)
    if cache == "db":
        c.env.pop("HIROBA_CACHE_URL", None)
    else:
        c.env["HIROBA_CACHE_URL"] = cache
    c.script("start")
    try:
        if args.client == "wrk":
            _wrk(c.port, path, duration=2, readers=args.readers)  # warm-up
            drained = _drain(c.port)
            summary = _wrk(c.port, path, duration=args.duration, readers=args.readers)
            return {"cache": cache if seconds else "off", "readers": args.readers, "client": "wrk",
                    "drained_after_warm_up_s": drained, **summary}
        intake.flood(c.port, path, duration=2, concurrency=args.readers, processes=4, timeout=60)  # warm-up
        _drain(c.port)
        results = intake.flood(c.port, path, duration=args.duration, concurrency=args.readers, processes=4,
                               timeout=60)
    finally:
        c.script("stop")
    summary = intake.summarise(results, args.duration)
    summary.pop("retry_after_on_shed", None)
    return {"cache": cache if seconds else "off", "readers": args.readers, **summary,
            "hits": sum(1 for r in results if r[3] == "hit")}


def _drain(port: int, *, within: float = 300) -> float:
    """Seconds until the app server is through what the warm-up left queued. Requests whose reader
    has gone are still served (gunicorn hands them to its threads in order), so a run started at
    once spends its first seconds on them and counts none of it: with the cache off and 200
    readers, several seconds of an 8 s run. Done when /healthz, queued behind them, answers in
    under half a second."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        asked = time.monotonic()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=within) as answer:
                answer.read()
        except OSError:
            time.sleep(0.2)
            continue
        if time.monotonic() - asked < 0.5:
            break
    return round(time.monotonic() - started, 1)


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return round(float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit], 1)


def _wrk(port: int, path: str, *, duration: float, readers: int) -> dict:
    """`readers` keep-alive connections from wrk (C, two threads): a load generator that costs the
    machine little, so the rate measured is the server's, not the Python client's."""
    out = subprocess.run(["wrk", "-t2", f"-c{readers}", f"-d{max(1, round(duration))}s", "--latency", "--timeout", "60s",
                          f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True).stdout
    per_second = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {"per_second": round(per_second, 1), "p50_ms": _ms(p50.group(1)) if p50 else None,
            "p99_ms": _ms(p99.group(1)) if p99 else None, "statuses": {"non_2xx": int(bad.group(1)) if bad else 0,
            "socket_errors": errors.group(1) if errors else ""}, "hits": "n/a (wrk)"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=6)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--web-workers", type=int, default=1, help="gunicorn workers per app server")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--readers", type=int, default=200, help="concurrent readers of the results page")
    parser.add_argument("--reader-apps", type=int, default=1, help="app servers behind nginx for the readers")
    parser.add_argument("--cache", default="db", help="page cache backends, comma-separated: db, redis://…")
    parser.add_argument("--only", choices=["submissions", "readers"], help="one of the two benchmarks")
    parser.add_argument("--client", choices=["wrk", "python"], default="wrk" if shutil.which("wrk") else "python",
                        help="the readers' load generator: wrk (Debian's, when installed) or hiroba's Python client")
    args = parser.parse_args()
    if not lib.pg_available():
        sys.exit(f"bench/cluster.py needs PostgreSQL at {lib.PG_URL} (BENCH_POSTGRES_URL)")
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="hiroba-bench-cluster-") as tmp:
        c = lib.create(Path(tmp), apps=1, task_workers=1, web_workers=args.web_workers, web_threads=args.threads,
                       inflight=32)
        try:
            if args.only != "readers":
                one = phase(c, 1, args)
                two = phase(c, 2, args)
                stored = intake.stored_numbers(c.url, c.workdir)
            if args.only != "submissions":
                path = publish_seed(c)
                off = readers(c, path, args, cache="db", seconds=0)
                cached = [readers(c, path, args, cache=backend, seconds=300) for backend in args.cache.split(",")]
        finally:
            c.close()
    if args.only != "readers":
        report_submissions(one, two, stored, cores, args)
    if args.only != "submissions":
        report_readers(off, cached)


def report_readers(off: dict, cached: list[dict]) -> None:
    if not off["per_second"]:
        print(json.dumps({"readers": {"off": off, "on": cached}}, ensure_ascii=False))
        sys.exit("readers: no uncached read completed in the run, so there is no ratio (machine too busy?)")
    ratios = {run["cache"]: round(run["per_second"] / off["per_second"], 1) for run in cached}
    print(json.dumps({"readers": {"off": off, "on": cached, "ratio_on_to_off": ratios}}, ensure_ascii=False))
    for run in cached:
        ratio = ratios[run["cache"]]
        print(f"readers ({off['readers']}, results page): cache off {off['per_second']}/s (p50 {off['p50_ms']} ms, "
              f"p99 {off['p99_ms']} ms), cache on [{run['cache']}] {run['per_second']}/s (p50 {run['p50_ms']} ms, "
              f"p99 {run['p99_ms']} ms, {run['hits']} hits): ratio {ratio}; "
              f"target >= 10: {'met' if ratio >= 10 else 'NOT met'}")


def report_submissions(one: dict, two: dict, stored: list[str], cores: int, args: argparse.Namespace) -> None:
    ratio = round(two["per_second"] / max(one["per_second"], 0.1), 2)
    enough_cores = cores >= 2 * args.web_workers + 2  # each server its workers, plus nginx, postgres, the chainer
    report = {"cores": cores, "one": one, "two": two, "ratio_two_to_one": ratio,
              "per_core": {"one": round(one["per_second"] / cores, 1), "two": round(two["per_second"] / cores, 1)},
              "target": 1.6 if enough_cores else None, "stored": len(stored),
              "duplicated_numbers": len(stored) - len(set(stored))}
    print(json.dumps(report, ensure_ascii=False))
    verdict = (f"target >= 1.6: {'met' if ratio >= 1.6 else 'NOT met'}" if enough_cores else
               f"this machine has {cores} cores for 2 app servers × {args.web_workers} workers + nginx + PostgreSQL: "
               "ratio reported as is (target applies with a core per worker)")
    print(f"cluster: 1 app server {one['per_second']}/s (p50 {one['p50_ms']} ms, p99 {one['p99_ms']} ms), "
          f"2 app servers {two['per_second']}/s (p50 {two['p50_ms']} ms, p99 {two['p99_ms']} ms): "
          f"ratio {ratio}; per core {report['per_core']['one']} vs {report['per_core']['two']}/s; {verdict}; "
          f"duplicated 受付番号 {report['duplicated_numbers']}")


if __name__ == "__main__":
    main()
