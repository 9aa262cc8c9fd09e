"""The loopback cluster (scripts/cluster.sh) on PostgreSQL: start, flood, kill, verify, stop.

nginx → 2 app servers, 2 task workers, the audit chainer. During a flood of submissions through
nginx (and of residents' votes) one app server and one worker are SIGKILLed: nginx routes around
the dead server, every acknowledged 受付番号 is stored exactly once and has its audit entry in an
intact chain, every acknowledged vote is counted exactly once, and the
dead worker's tasks are taken by the other. Then every database connection is cut (as a database
restart does) during a second flood: requests fail with the Japanese 503 and the servers recover
by themselves; with the database refusing connections the pages are the Japanese 503; and a rate
limit counted on one server holds on the other."""

from __future__ import annotations

import http.client
import json
import threading
import time

import pytest

from tests.deploy import cluster as lib
from tests.deploy import votes

intake = lib.intake
VOTERS = 240
QUEUE = '''
from hiroba.core import notify
from django.db import transaction
for i in range({n}):
    with transaction.atomic():
        notify._store(template="cluster-test", recipients=[f"resident{{i}}@example.jp"], language="ja",
                      subject=f"受付のお知らせ {{i}}", body="本文", html="", about=None)
print("queued")
'''
TASKS = '''
import json
from django_tasks_db.models import DBTaskResult
from hiroba.core.models import Notification
rows = list(DBTaskResult.objects.values("status", "worker_ids", "finished_at"))
print(json.dumps({"tasks": [[r["status"], (r["worker_ids"] or [""])[-1], r["finished_at"].timestamp() if r["finished_at"] else None] for r in rows],
                  "sent": Notification.objects.filter(state="sent").count(),
                  "notifications": Notification.objects.count()}))
'''


def _get(port: int, path: str) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read().decode(errors="replace")
    finally:
        conn.close()


def _tasks(c: lib.Cluster) -> dict:
    result = c.hiroba("shell", "--no-imports", "-c", TASKS)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def _cut_connections(url: str) -> int:
    """What a database restart does to the app servers: every connection of theirs is gone."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(lib.PG_URL, autocommit=True) as conn:
        rows = conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE datname = %s AND pid <> pg_backend_pid()", (name,)).fetchall()
    return len(rows)


@pytest.mark.postgres
def test_cluster_survives_a_killed_server_and_worker(tmp_path):
    if not lib.pg_available():
        pytest.skip("PostgreSQL is not reachable at " + lib.PG_URL)
    c = lib.create(tmp_path, apps=2, task_workers=2)
    try:
        started = c.script("start")
        assert "2 app servers" in started.stdout
        status = c.script("status")
        assert status.stdout.count(": running") == 6 and '"status": "ok"' in status.stdout  # 2 apps, 2 workers, chainer, nginx
        code, body = _get(c.port, "/static/hiroba/hiroba.css")
        assert code == 200 and body  # nginx serves the static files itself
        code, _ = _get(c.port, "/metrics")
        assert code == 200  # loopback is the operator network here

        # residents signed in to vote during the same flood
        prepared = c.hiroba("shell", "--no-imports", "-c", votes.SETUP.format(
            bench=votes.BENCH, slug=votes.SLUG, proposals=votes.PROPOSALS, voters=VOTERS))
        assert prepared.returncode == 0, prepared.stderr
        ballot_setup = votes.parse(prepared.stdout)
        voted: list[votes.Outcome] = []
        voter = threading.Thread(target=lambda: voted.append(votes.cast(c.port, ballot_setup)))

        # mail queued while the flood runs (the workers deliver it), before and after the kill
        queuer = threading.Thread(target=lambda: c.hiroba("shell", "--no-imports", "-c", QUEUE.format(n=1200)))
        queuer.start()
        results: list = []
        flooder = threading.Thread(target=lambda: results.extend(
            intake.flood(c.port, "full", duration=8, concurrency=8, processes=2, timeout=15)))
        flooder.start()
        voter.start()
        time.sleep(2.5)
        killed_at = time.time()
        c.kill("app1")
        c.kill("worker1")
        flooder.join()
        queuer.join()
        voter.join()
        queued = c.hiroba("shell", "--no-imports", "-c", QUEUE.format(n=100))  # only the live worker is left
        assert queued.returncode == 0, queued.stderr

        acknowledged = [r[2] for r in results if r[2]]
        statuses = {}
        for r in results:
            statuses[r[0]] = statuses.get(r[0], 0) + 1
        assert len(acknowledged) > 20, statuses
        # nginx stays up and answers every request; a request in flight on the killed server
        # gets 502 (a POST already sent is never sent twice), the rest go to the live server.
        assert 0 not in statuses, statuses
        assert set(statuses) <= {303, 502, 503}, statuses
        assert statuses.get(502, 0) <= 8, statuses  # at most the requests in flight at the kill
        stored = intake.stored_numbers(c.url, c.workdir)
        assert set(acknowledged) <= set(stored)
        assert len(stored) == len(set(stored)) and len(acknowledged) == len(set(acknowledged))

        # Every vote acknowledged is stored exactly once: a vote whose answer was lost with the
        # killed server was sent again with its key, and counted once.
        outcome = voted[0]
        assert outcome.last_acknowledged_at > killed_at, "the voting ended before the kill: it would prove nothing"
        assert set(outcome.statuses()) <= {302, 502, 503}, outcome.statuses()
        assert outcome.acknowledged == set(range(VOTERS)), sorted(set(range(VOTERS)) - outcome.acknowledged)[:10]
        ballots = votes.parse(c.hiroba("shell", "--no-imports", "-c", votes.STORED.format(slug=votes.SLUG)).stdout)
        assert len(ballots["participations"]) == VOTERS
        assert set(ballots["participations"].values()) == {votes.CHOICES}
        assert ballots["ballots"] == votes.CHOICES * VOTERS
        assert ballots["tally"] == votes.expected(outcome.acknowledged, ballot_setup["proposals"])

        down = c.script("status", check=False)
        assert down.returncode == 1 and "app1: DOWN" in down.stdout and "worker1: DOWN" in down.stdout
        assert '"status": "ok"' in down.stdout  # still ready through nginx

        # The dead worker's tasks: what it had not started is taken by the other at once; what it
        # was running goes back to the queue (as its restart does, scripts/cluster.sh and the unit).
        lib.wait_until(lambda: not any(t[0] == "READY" for t in _tasks(c)["tasks"]), 180, "the queue to drain")
        requeued = c.hiroba("tasks", "requeue", "--worker-id", "cluster-worker-1")
        assert requeued.returncode == 0, requeued.stderr
        lib.wait_until(lambda: all(t[0] in ("SUCCESSFUL", "FAILED") for t in _tasks(c)["tasks"]), 120,
                       "every task to finish")
        tasks = _tasks(c)
        assert len(tasks["tasks"]) == 1300 and all(t[0] == "SUCCESSFUL" for t in tasks["tasks"])
        assert any(t[1] == "cluster-worker-2" and t[2] and t[2] > killed_at for t in tasks["tasks"])
        # each message once; at most the one being sent at the kill is left to `notifications deliver`
        assert tasks["sent"] >= tasks["notifications"] - 1

        # Every database connection cut during a flood (a PostgreSQL restart): 503 with the
        # Japanese page while it lasts, nothing acknowledged lost, no restart needed after.
        results = []
        flooder = threading.Thread(target=lambda: results.extend(
            intake.flood(c.port, "full", duration=5, concurrency=6, processes=2, timeout=15)))
        flooder.start()
        cut = 0
        for _ in range(4):
            time.sleep(0.8)
            cut += _cut_connections(c.url)
        flooder.join()
        assert cut > 0
        statuses = {}
        for r in results:
            statuses[r[0]] = statuses.get(r[0], 0) + 1
        assert 500 not in statuses, statuses
        assert set(statuses) <= {303, 502, 503}, statuses
        stored = intake.stored_numbers(c.url, c.workdir)
        acknowledged = [r[2] for r in results if r[2]]
        assert set(acknowledged) <= set(stored) and len(stored) == len(set(stored))
        code, body = _get(c.port, "/readyz")
        assert code == 200, body
        after = intake.flood(c.port, "full", duration=1.5, concurrency=4, processes=1, timeout=15)
        assert after and all(r[0] == 303 for r in after), {r[0] for r in after}

        # The audit chain: every stored submission has its entry, the chain is intact.
        stored = intake.stored_numbers(c.url, c.workdir)
        assert len(stored) == len(set(stored))
        audited = intake.audit_check(intake.Server(env=c.env, port=c.port, workdir=c.workdir))
        assert audited["audit_chain"].startswith("OK "), audited
        assert audited["audit_entries"] == len(stored)

        # The database refusing every connection: the Japanese 503 through nginx, /readyz 503 naming
        # the database, /healthz still 200; back to normal by itself once it accepts them again.
        import psycopg

        name = c.url.rsplit("/", 1)[1]
        with psycopg.connect(lib.PG_URL, autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
            try:
                _cut_connections(c.url)
                code, body = _get(c.port, f"/consultations/{intake.SLUG}/")
                ready, ready_body = _get(c.port, "/readyz")
                alive, _ = _get(c.port, "/healthz")
            finally:
                conn.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')
        assert code == 503 and "保守中" in body and "保存されていません" in body
        assert ready == 503 and json.loads(ready_body)["down"][0] == "database"
        assert alive == 200
        lib.wait_until(lambda: _get(c.port, "/readyz")[0] == 200, 30, "the servers to recover")
        assert _get(c.port, f"/consultations/{intake.SLUG}/")[0] == 200

        # Rate limits hold for the whole site: with 10 opinions an hour per address, 30 posts spread
        # by nginx over both app servers get exactly 10 through (counted per process, 20 would).
        c.script("stop")
        c.env["CLUSTER_SUBMIT_LIMIT"] = "10"
        c.script("start")
        client = intake.Client(c.port, "full", timeout=15)
        posted = [client.post() for _ in range(30)]
        assert [p[0] for p in posted].count(303) == 10, [p[0] for p in posted]
        assert [p[0] for p in posted].count(429) == 20 and all(p[3] for p in posted if p[0] == 429)
        upstreams = {json.loads(line)["upstream"] for line in (c.dir / "nginx" / "access.log").read_text().splitlines()
                     if '"method":"POST"' in line and '"status":429' in line}
        assert {f"127.0.0.1:{c.app_port}", f"127.0.0.1:{c.app_port + 1}"} <= upstreams  # both servers refused

        stopped = c.script("stop")
        assert "stopped" in stopped.stdout
        assert not list((c.dir / "pids").glob("*.pid"))
        with pytest.raises(OSError):
            _get(c.port, "/healthz")
    finally:
        c.close()

