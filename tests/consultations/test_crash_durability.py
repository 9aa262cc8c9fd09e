"""SIGKILL the server (gunicorn, every worker, the audit chainer) in the middle of a flood of
submissions: every 受付番号 a client was shown is in the database afterwards, none is
duplicated, and each stored submission has its audit entry in an intact chain.
Runs against a SQLite file (WAL, synchronous=FULL) and a throwaway PostgreSQL database."""

from __future__ import annotations

import importlib.util
import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "intake.py"
spec = importlib.util.spec_from_file_location("hiroba_bench_intake", BENCH)
intake = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = intake  # dataclasses look their module up there
spec.loader.exec_module(intake)  # type: ignore[union-attr]

PG_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def _pg_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_URL, connect_timeout=3):
            return True
    except Exception:
        return False


@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_every_acknowledged_receipt_survives_a_sigkill(db, tmp_path):
    drop = None
    if db == "postgres":
        if not _pg_available():
            pytest.skip("PostgreSQL is not reachable at " + PG_URL)
        url, drop = intake.pg_database(PG_URL)
    else:
        url = f"sqlite:///{tmp_path / 'crash.sqlite3'}"
    try:
        server = intake.start(intake.prepare(url, tmp_path, inflight=6), workers=3, threads=4)
        results: list = []

        def flood() -> None:
            results.extend(intake.flood(server.port, "full", duration=6, concurrency=12, processes=3, timeout=10))

        flooder = threading.Thread(target=flood)
        flooder.start()
        time.sleep(3)
        intake.kill(server, signal.SIGKILL)  # the whole process group: master and workers, no clean-up
        flooder.join()
        acknowledged = [r[2] for r in results if r[2]]
        failed = [r for r in results if r[0] == 0]
        assert len(acknowledged) > 10, "the flood should have been acknowledged before the kill"
        assert failed, "the kill should have cut requests off"
        stored = intake.stored_numbers(url, tmp_path)
        assert set(acknowledged) <= set(stored)
        assert len(stored) == len(set(stored))
        assert len(acknowledged) == len(set(acknowledged))
        # The chainer was killed with the server: what it had not linked is still pending, and
        # linking it afterwards gives an intact chain with one entry per stored submission.
        audited = intake.audit_check(server)
        assert audited["audit_chain"].startswith("OK ")
        assert audited["audit_entries"] == len(stored)
    finally:
        if drop:
            drop()
