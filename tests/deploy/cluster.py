"""scripts/cluster.sh driven from Python: for tests/deploy/test_cluster.py and bench/cluster.py.

A throwaway PostgreSQL database with an open case (bench/intake.py prepares it), a settings module
that keeps the real task queue (django-tasks-db), and nginx + app servers + workers + chainer
started by the script exactly as an operator would."""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "cluster.sh"
if "hiroba_bench_intake" not in sys.modules:  # tests/consultations/test_crash_durability.py loads it too
    _spec = importlib.util.spec_from_file_location("hiroba_bench_intake", ROOT / "bench" / "intake.py")
    _module = importlib.util.module_from_spec(_spec)
    sys.modules[_spec.name] = _module  # dataclasses look their module up there
    _spec.loader.exec_module(_module)  # type: ignore[union-attr]
intake = sys.modules["hiroba_bench_intake"]

PG_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
CLUSTER_SETTINGS = '''import os
from hiroba_bench_settings import *  # noqa: F401,F403
if os.environ.get("CLUSTER_SUBMIT_LIMIT"):  # a resident's limit again, to show it holds across app servers
    HIROBA_RATE_LIMITS = {**HIROBA_RATE_LIMITS,
                          "consultations.submit": os.environ["CLUSTER_SUBMIT_LIMIT"] + "/h/ip,100000/h/key"}
# the real queue: the cluster's workers take the tasks
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
'''


def pg_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_URL, connect_timeout=3):
            return True
    except Exception:
        return False


def _free_ports(n: int) -> int:
    """The first of `n` consecutive free loopback ports."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            first = s.getsockname()[1]
        if first + n >= 65535:
            continue
        try:
            socks = []
            for port in range(first, first + n):
                sock = socket.socket()
                sock.bind(("127.0.0.1", port))
                socks.append(sock)
            return first
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
    raise RuntimeError("no free ports")


@dataclass
class Cluster:
    url: str
    workdir: Path
    env: dict[str, str]
    port: int
    app_port: int
    apps: int
    drop: Any

    @property
    def dir(self) -> Path:
        return self.workdir / "cluster"

    def script(self, action: str, *, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(["bash", str(SCRIPT), action], env=self.env, cwd=self.workdir, capture_output=True,
                                text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"cluster.sh {action} failed:\n{result.stdout}\n{result.stderr}\n{self.logs()}")
        return result

    def pid(self, name: str) -> int:
        return int((self.dir / "pids" / f"{name}.pid").read_text().strip())

    def kill(self, name: str) -> None:
        """SIGKILL a process of the cluster and everything it started (gunicorn's workers)."""
        os.killpg(self.pid(name), signal.SIGKILL)

    def hiroba(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(intake.VENV_BIN / "hiroba"), *args], env=self.hiroba_env, cwd=self.workdir,
                              capture_output=True, text=True, timeout=300)

    @property
    def hiroba_env(self) -> dict[str, str]:
        return self.env  # the same database, data dir, keys and settings as the cluster's processes

    def logs(self) -> str:
        out = []
        for path in sorted((self.dir / "logs").glob("*.log")) if (self.dir / "logs").exists() else []:
            out.append(f"--- {path.name}\n{path.read_text(errors='replace')[-2000:]}")
        return "\n".join(out)

    def close(self) -> None:
        try:
            if (self.dir / "pids").exists():
                self.script("stop", check=False, timeout=120)
        finally:
            if self.drop:
                self.drop()


def create(workdir: Path, *, apps: int = 2, task_workers: int = 2, web_workers: int = 1, web_threads: int = 4,
           inflight: int = 8) -> Cluster:
    url, drop = intake.pg_database(PG_URL)
    try:
        server = intake.prepare(url, workdir, inflight=inflight)
        (workdir / "hiroba_cluster_settings.py").write_text(CLUSTER_SETTINGS, encoding="utf-8")
        port = _free_ports(1)
        app_port = _free_ports(apps)
        env = {**server.env, "DJANGO_SETTINGS_MODULE": "hiroba_cluster_settings", "CLUSTER_DIR": str(workdir / "cluster"),
               "CLUSTER_PORT": str(port), "CLUSTER_APP_PORT": str(app_port), "CLUSTER_APPS": str(apps),
               "CLUSTER_TASK_WORKERS": str(task_workers), "CLUSTER_WEB_WORKERS": str(web_workers),
               "CLUSTER_WEB_THREADS": str(web_threads), "CLUSTER_SKIP_MIGRATE": "1",
               "CLUSTER_DATA_DIR": server.env["HIROBA_DATA_DIR"], "HIROBA_BIN": str(intake.VENV_BIN)}
        for name in ("HIROBA_CACHE_URL", "HIROBA_CACHE_KEY_PREFIX", "PYTEST_CURRENT_TEST"):
            env.pop(name, None)
        return Cluster(url=url, workdir=workdir, env=env, port=port, app_port=app_port, apps=apps, drop=drop)
    except Exception:
        drop()
        raise


def wait_until(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")
