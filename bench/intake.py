"""Benchmark of the public submission path (hiroba consultations) on loopback.

    python bench/intake.py                      # SQLite (WAL, IMMEDIATE) and PostgreSQL
    python bench/intake.py --db sqlite --duration 10 --concurrency 16 --workers 4

For each database it migrates a fresh database, creates an open case, starts gunicorn
(several gthread workers) with hiroba's settings plus `ROOT_URLCONF =
bench_urls` (bench/bench_urls.py, never shipped in the package), and floods, in the same run and against the same server:

* **full**: the real form POST (CSRF cookie and token, form validation, 受付番号 from the
  per-case sequence, audit-log entry, durable commit, 303 to the receipt);
* **bare**: a csrf-exempt view that INSERTs the same row and nothing else (the baseline).

It prints accepted submissions per second and p50/p99 latency for both and the ratio
full/bare (target ≥ 0.6), then runs an **overload** phase far beyond capacity and checks that
the excess is answered 503/429 with Retry-After (no 5xx errors, no resets) and that every
acknowledged 受付番号 is in the database afterwards, none duplicated.

tests/consultations/test_crash_durability.py imports this module to SIGKILL the server mid-flood.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
SLUG = "bench-intake"
BARE_SLUG = "bench-bare"
SECRET = "bench-" + "x" * 60
SETTINGS = '''from hiroba.settings import *  # noqa: F401,F403
ROOT_URLCONF = "bench_urls"
CONSULTATIONS_MAX_INFLIGHT_SUBMISSIONS = {inflight}
# The flood comes from one loopback address as fast as it can: the public limits are for residents.
HIROBA_RATE_LIMITS = {{scope: "100000000/m/ip,100000000/m/key" for scope in HIROBA_RATE_LIMITS}}
HIROBA_FORM_MIN_FILL_SECONDS = 0
TASKS = {{"default": {{"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}}}
STORAGES = {{**STORAGES, "staticfiles": {{"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}}}
LOGGING = {{"version": 1, "disable_existing_loggers": False, "root": {{"level": "WARNING"}}}}
'''
SETUP = '''
from datetime import timedelta
from django.utils import timezone
from hiroba.consultations import services
from hiroba.consultations.models import Case, Channel
from hiroba.core.models import Department
dept, _ = Department.objects.get_or_create(code="bench", defaults={"name": "ベンチマーク課"})
today = timezone.localdate()
for slug in ("%s", "%s"):
    case = services.case_create(actor="bench", slug=slug, title="ベンチマーク", department=dept,
        period_start=today - timedelta(days=1), period_end=today + timedelta(days=40),
        channels=[Channel.WEB], receipt_code="BN")
    services.section_add(actor="bench", case=case, heading="全体")
    services.case_transition(actor="bench", case=case, to=Case.State.OPEN)
''' % (SLUG, BARE_SLUG)  # noqa: UP031 (the code contains braces-free Python)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    env: dict[str, str]
    port: int
    proc: subprocess.Popen[bytes] | None = None
    chainer: subprocess.Popen[bytes] | None = None
    workdir: Path = field(default_factory=Path)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def prepare(db_url: str, workdir: Path, *, inflight: int = 4) -> Server:
    """A fresh database with an open case, and the environment to serve it."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "hiroba_bench_settings.py").write_text(SETTINGS.format(inflight=inflight), encoding="utf-8")
    env = {**os.environ, "DATABASE_URL": db_url, "HIROBA_DATA_DIR": str(workdir / "data"),
           "HIROBA_SECRET_KEY": SECRET, "HIROBA_DEBUG": "0", "HIROBA_HTTPS": "0",
           "DJANGO_SETTINGS_MODULE": "hiroba_bench_settings",
           "PYTHONPATH": os.pathsep.join([str(workdir), str(ROOT / "bench"), str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    env.pop("PYTEST_CURRENT_TEST", None)
    hiroba = str(VENV_BIN / "hiroba")
    subprocess.run([hiroba, "migrate", "-v0"], env=env, check=True, cwd=workdir, capture_output=True)
    subprocess.run([hiroba, "shell", "-c", SETUP], env=env, check=True, cwd=workdir, capture_output=True)
    return Server(env=env, port=free_port(), workdir=workdir)


def start(server: Server, *, workers: int = 4, threads: int = 8) -> Server:
    cmd = [str(VENV_BIN / "gunicorn"), "hiroba.wsgi", "-b", f"127.0.0.1:{server.port}", "-w", str(workers),
           "--worker-class", "gthread", "--threads", str(threads), "--backlog", "64", "--timeout", "60",
           "--log-level", "warning"]
    server.proc = subprocess.Popen(cmd, env=server.env, cwd=server.workdir, start_new_session=True,
                                   stdout=subprocess.DEVNULL, stderr=open(server.workdir / "gunicorn.log", "ab"))
    # The audit chainer runs beside the server, as in production, on the same cores: the cost
    # of linking each submission's audit entry into the hash chain is part of what is measured.
    server.chainer = subprocess.Popen([str(VENV_BIN / "hiroba"), "audit", "chain", "--follow"], env=server.env,
                                      cwd=server.workdir, start_new_session=True, stdout=subprocess.DEVNULL,
                                      stderr=open(server.workdir / "chainer.log", "ab"))
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=2)
            conn.request("GET", f"/consultations/{SLUG}/submit/")
            if conn.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start: " + (server.workdir / "gunicorn.log").read_text()[-3000:])


def kill(server: Server, sig: int = signal.SIGTERM) -> None:
    for proc in (server.proc, server.chainer):
        if proc and proc.poll() is None:
            os.killpg(proc.pid, sig)
            proc.wait(timeout=30)


def audit_check(server: Server) -> dict[str, Any]:
    """After the run: link what is still pending, verify the whole chain, and count the audit
    entries of the flooded case's submissions (one per stored submission)."""
    hiroba = str(VENV_BIN / "hiroba")
    verify = subprocess.run([hiroba, "audit", "verify"], env=server.env, cwd=server.workdir, capture_output=True,
                            text=True)
    count = subprocess.run(
        [hiroba, "shell", "-c", "from hiroba.core.models import AuditEntry; print(AuditEntry.objects.filter("
         f"action='consultations.submission_receive', changes__case='{SLUG}').count())"],
        env=server.env, cwd=server.workdir, capture_output=True, text=True, check=True,
    )
    return {"audit_chain": verify.stdout.strip(), "audit_entries": int(count.stdout.strip().splitlines()[-1])}


def receipt_number(location: str) -> str:
    """The 受付番号 inside the signed receipt URL (signing.dumps payload, readable without the key)."""
    token = location.rstrip("/").split("/")[-1]
    payload = token.split(":")[0]
    compressed = payload.startswith(".")
    raw = base64.urlsafe_b64decode(payload.lstrip(".") + "=" * (-len(payload.lstrip(".")) % 4))
    return json.loads(zlib.decompress(raw) if compressed else raw)


class Client:
    """One keep-alive connection posting like a browser: GET the form once, then POST with CSRF."""

    def __init__(self, port: int, mode: str, timeout: float = 30) -> None:
        self.port, self.mode, self.timeout = port, mode, timeout
        self.conn: http.client.HTTPConnection | None = None
        self.cookie = self.token = ""

    def _conn(self) -> http.client.HTTPConnection:
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        return self.conn

    def prime(self) -> None:
        conn = self._conn()
        conn.request("GET", f"/consultations/{SLUG}/submit/")
        resp = conn.getresponse()
        html = resp.read().decode()
        cookie = resp.getheader("Set-Cookie", "")
        self.cookie = re.search(r"csrftoken=([^;]+)", cookie).group(1)
        self.token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)

    def read(self) -> tuple[int, float, str, str]:
        """A reader (mode = the page's path): GET it; (status, seconds, "read" when 200, cache state)."""
        started = time.perf_counter()
        try:
            conn = self._conn()
            conn.request("GET", self.mode)
            resp = conn.getresponse()
            resp.read()
        except (OSError, http.client.HTTPException):
            self.conn = None
            return 0, time.perf_counter() - started, "", ""
        if resp.getheader("Connection", "").lower() == "close":
            self.conn = None
        return (resp.status, time.perf_counter() - started, "read" if resp.status == 200 else "",
                resp.getheader("X-Hiroba-Cache", ""))

    def post(self) -> tuple[int, float, str, str]:
        """(status, seconds, 受付番号 or '', Retry-After); a reader's mode is a path to GET instead."""
        if self.mode.startswith("/"):
            return self.read()
        body = {"name": "区民 花子", "address": "千代田区九段南1-2-1", "category": "resident",
                "text": "ベンチマークの意見です。" * 20, "idempotency_key": uuid.uuid4().hex, "step": "submit"}
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if self.mode == "full":
            if not self.token:
                self.prime()
            body["csrfmiddlewaretoken"] = self.token
            headers["Cookie"] = f"csrftoken={self.cookie}"
            target = f"/consultations/{SLUG}/submit/"
        else:
            target = f"/bench/bare/{BARE_SLUG}/"
        started = time.perf_counter()
        try:
            conn = self._conn()
            conn.request("POST", target, urllib.parse.urlencode(body), headers)
            resp = conn.getresponse()
            resp.read()
        except (OSError, http.client.HTTPException):
            self.conn = None
            return 0, time.perf_counter() - started, "", ""
        elapsed = time.perf_counter() - started
        number = ""
        if self.mode == "full" and resp.status == 303:
            number = receipt_number(resp.getheader("Location", ""))
        elif self.mode == "bare" and resp.status == 201:
            number = "bare"
        if resp.getheader("Connection", "").lower() == "close":
            self.conn = None
        return resp.status, elapsed, number, resp.getheader("Retry-After", "")


def _client_results(port: int, mode: str, threads: int, stop_at: float, timeout: float) -> list[tuple[int, float, str, str]]:
    results: list[tuple[int, float, str, str]] = []
    lock = threading.Lock()

    def run() -> None:
        client = Client(port, mode, timeout)
        local = []
        while time.time() < stop_at:
            local.append(client.post())
        with lock:
            results.extend(local)

    pool = [threading.Thread(target=run) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return results


def _client_main(argv: list[str]) -> None:
    """`python bench/intake.py --flood-client PORT MODE THREADS STOP_AT TIMEOUT`: one client
    process of `flood`; its results as JSON on stdout."""
    port, mode, threads, stop_at, timeout = int(argv[0]), argv[1], int(argv[2]), float(argv[3]), float(argv[4])
    json.dump(_client_results(port, mode, threads, stop_at, timeout), sys.stdout)


def flood(port: int, mode: str, *, duration: float, concurrency: int, processes: int = 4,
          timeout: float = 30) -> list[tuple[int, float, str, str]]:
    """`concurrency` connections spread over client processes (the GIL stays out of the way).
    The clients are fresh interpreters, never forks: a caller with threads running (a test
    suite with a browser driver, a flood started from a thread) may hold a lock at the moment
    of a fork, and the forked child would wait for it forever."""
    stop_at = time.time() + duration
    processes = max(1, min(processes, concurrency))
    per = [concurrency // processes + (1 if i < concurrency % processes else 0) for i in range(processes)]
    procs = [subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--flood-client", str(port), mode,
                               str(n), repr(stop_at), str(timeout)], stdout=subprocess.PIPE)
             for n in per]
    results: list[tuple[int, float, str, str]] = []
    for proc in procs:
        out, _ = proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(f"a flood client failed (exit {proc.returncode})")
        results.extend((int(r[0]), float(r[1]), str(r[2]), str(r[3])) for r in json.loads(out or b"[]"))
    return results


def summarise(results: list[tuple[int, float, str, str]], duration: float) -> dict[str, Any]:
    ok = [r for r in results if r[2]]
    latencies = sorted(r[1] for r in ok) or [0.0]
    statuses: dict[str, int] = {}
    for status, *_ in results:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    q = statistics.quantiles(latencies, n=100) if len(latencies) >= 2 else latencies * 99
    return {"accepted": len(ok), "per_second": round(len(ok) / duration, 1), "p50_ms": round(q[49] * 1000, 1),
            "p99_ms": round(q[98] * 1000, 1), "statuses": statuses,
            "retry_after_on_shed": all(r[3] for r in results if r[0] in (429, 503))}


def stored_numbers(db_url: str, workdir: Path) -> list[str]:
    """Every 受付番号 of the flooded case, read straight from the database."""
    sql = ("SELECT s.receipt_number FROM consultations_submission s JOIN consultations_case c "
           "ON c.id = s.case_id WHERE c.slug = %s")
    if db_url.startswith("postgres"):
        import psycopg

        with psycopg.connect(db_url) as conn:
            return [r[0] for r in conn.execute(sql, (SLUG,))]
    import sqlite3

    path = urllib.parse.urlsplit(db_url).path
    with sqlite3.connect(path) as conn:
        return [r[0] for r in conn.execute(sql.replace("%s", "?"), (SLUG,))]


def pg_database(base_url: str) -> tuple[str, Any]:
    """A throwaway PostgreSQL database beside `base_url`; returns (url, drop)."""
    import psycopg

    name = "hiroba_bench_" + secrets.token_hex(4)
    admin = base_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return base_url.rsplit("/", 1)[0] + "/" + name, drop


def run(db: str, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"hiroba-bench-{db}-") as tmp:
        workdir = Path(tmp)
        drop = None
        if db == "postgres":
            url, drop = pg_database(args.postgres)
        else:
            url = f"sqlite:///{workdir / 'bench.sqlite3'}"
        try:
            server = start(prepare(url, workdir, inflight=args.inflight), workers=args.workers, threads=args.threads)
            try:
                flood(server.port, "full", duration=2, concurrency=args.concurrency)  # warm-up
                flood(server.port, "bare", duration=2, concurrency=args.concurrency)
                full, bare = [], []
                for _ in range(args.rounds):  # interleaved so drift hits both alike
                    full += flood(server.port, "full", duration=args.duration, concurrency=args.concurrency)
                    bare += flood(server.port, "bare", duration=args.duration, concurrency=args.concurrency)
                span = args.duration * args.rounds
                overload = flood(server.port, "full", duration=args.duration, concurrency=args.overload, timeout=60)
            finally:
                kill(server)
            numbers = stored_numbers(url, workdir)
            audited = audit_check(server)
            acked = [r[2] for r in full + overload if r[2]]
            report = {
                "db": db, "workers": args.workers, "threads": args.threads, "concurrency": args.concurrency,
                "full": summarise(full, span), "bare": summarise(bare, span),
                "overload": {"concurrency": args.overload, **summarise(overload, args.duration)},
                "acknowledged": len(acked), "acknowledged_missing": len(set(acked) - set(numbers)),
                "duplicated_numbers": len(numbers) - len(set(numbers)),
                **audited, "audit_entries_missing": len(numbers) - audited["audit_entries"],
            }
            report["ratio_full_to_bare"] = round(report["full"]["per_second"] / max(report["bare"]["per_second"], 0.1), 2)
            return report
        finally:
            if drop:
                drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--duration", type=float, default=4)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--overload", type=int, default=96)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=6)
    parser.add_argument("--inflight", type=int, default=5, help="submissions in flight per worker before 503")
    args = parser.parse_args()
    reports = [run(db, args) for db in (["sqlite", "postgres"] if args.db == "both" else [args.db])]
    for report in reports:
        print(json.dumps(report, ensure_ascii=False))
        print(f"{report['db']}: full {report['full']['per_second']}/s (p50 {report['full']['p50_ms']} ms, "
              f"p99 {report['full']['p99_ms']} ms) vs bare {report['bare']['per_second']}/s "
              f"(p50 {report['bare']['p50_ms']} ms, p99 {report['bare']['p99_ms']} ms): "
              f"ratio {report['ratio_full_to_bare']} (target >= 0.6); overload x{report['overload']['concurrency']}: "
              f"{report['overload']['statuses']}, Retry-After on every 503/429: {report['overload']['retry_after_on_shed']}; "
              f"acknowledged {report['acknowledged']}, missing {report['acknowledged_missing']}, "
              f"audit: {report['audit_chain']}, entries missing {report['audit_entries_missing']}, "
              f"duplicated {report['duplicated_numbers']}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--flood-client"]:
        _client_main(sys.argv[2:])
    else:
        main()
