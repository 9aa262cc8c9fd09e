"""Separate processes on one database: hiroba as several app servers (gunicorn) and as its
command-line processes (the audit chainer), the way production runs it.

A test gets a database those processes can open as well: on PostgreSQL the test database itself
(the test must be transactional, so what it writes is committed), on SQLite a copy of a file
migrated once per session (the test database lives in memory, out of other processes' reach).
"""

from __future__ import annotations

import http.client
import http.cookiejar
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
SECRET = "processes-" + "k" * 60
# Served like production (DEBUG off), but with plain static files (no collectstatic manifest).
SETTINGS = '''import os
from hiroba.settings import *  # noqa: F401,F403
MFA_TOTP_PERIOD = int(os.environ.get("HIROBA_TEST_TOTP_PERIOD", "30"))
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
WHITENOISE_USE_FINDERS = True
TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
'''
_TEMPLATE: dict[str, Path] = {}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class SharedDatabase:
    """A database this test and other processes open; `env` runs hiroba against it."""

    url: str
    workdir: Path
    env: dict[str, str]
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def shell(self, code: str, **extra_env: str) -> str:
        """Run Python inside hiroba (`hiroba shell -c`) in a new process; its standard output."""
        result = subprocess.run([str(VENV_BIN / "hiroba"), "shell", "--no-imports", "-c", code], env={**self.env, **extra_env},
                                cwd=self.workdir, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise AssertionError(f"hiroba shell failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def hiroba(self, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(VENV_BIN / "hiroba"), *args], env={**self.env, **extra_env}, cwd=self.workdir,
                              capture_output=True, text=True, timeout=120)

    def start(self, *args: str, log: str, **extra_env: str) -> subprocess.Popen[bytes]:
        """A long-running process (its own process group, stopped at the end of the test)."""
        proc = subprocess.Popen(list(args), env={**self.env, **extra_env}, cwd=self.workdir, start_new_session=True,
                                stdout=open(self.workdir / f"{log}.out", "ab"),
                                stderr=open(self.workdir / f"{log}.err", "ab"))
        self.procs.append(proc)
        return proc

    def log(self, name: str) -> str:
        parts = []
        for suffix in ("out", "err"):
            path = self.workdir / f"{name}.{suffix}"
            if path.exists():
                parts.append(path.read_text(errors="replace"))
        return "\n".join(parts)

    def serve(self, *, name: str, **extra_env: str) -> str:
        """One app server (gunicorn, one worker process); its base URL once it answers."""
        port = free_port()
        self.start(str(VENV_BIN / "gunicorn"), "hiroba.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1",
                   "--timeout", "60", "--log-level", "warning", log=name, **extra_env)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/accounts/login/")
                if conn.getresponse().status == 200:
                    return f"http://127.0.0.1:{port}"
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"gunicorn {name} did not start:\n{self.log(name)[-3000:]}")

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)


def _env(url: str, workdir: Path) -> dict[str, str]:
    (workdir / "hiroba_process_settings.py").write_text(SETTINGS, encoding="utf-8")
    env = {**os.environ, "DATABASE_URL": url, "HIROBA_DATA_DIR": str(workdir / "data"),
           "HIROBA_SECRET_KEY": SECRET, "HIROBA_AUDIT_KEY": SECRET, "HIROBA_DEBUG": "0", "HIROBA_HTTPS": "0",
           "DJANGO_SETTINGS_MODULE": "hiroba_process_settings",
           "PYTHONPATH": os.pathsep.join([str(workdir), str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    for name in ("PYTEST_CURRENT_TEST", "HIROBA_CACHE_URL", "HIROBA_CACHE_KEY_PREFIX"):
        env.pop(name, None)
    return env


def _sqlite_template(request: pytest.FixtureRequest) -> Path:
    """A SQLite file migrated once per test session (migrating takes longer than a test)."""
    if "sqlite" not in _TEMPLATE:
        base = request.getfixturevalue("tmp_path_factory").mktemp("migrated")
        target = base / "template.sqlite3"
        env = _env(f"sqlite:///{target}", base)
        result = subprocess.run([str(VENV_BIN / "hiroba"), "migrate", "-v0"], env=env, cwd=base,
                                capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stderr
        _TEMPLATE["sqlite"] = target
    return _TEMPLATE["sqlite"]


@contextmanager
def shared_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SharedDatabase]:
    from django.conf import settings

    workdir = tmp_path / "processes"
    workdir.mkdir()
    default = settings.DATABASES["default"]
    if default["ENGINE"].endswith("postgresql"):
        request.getfixturevalue("transactional_db")
        from django.db import connection

        name = connection.settings_dict["NAME"]  # the test database, already migrated
        user = urllib.parse.quote(default.get("USER") or "")
        password = ":" + urllib.parse.quote(default["PASSWORD"]) if default.get("PASSWORD") else ""
        host = default.get("HOST") or "127.0.0.1"
        port = default.get("PORT") or 5432
        url = f"postgres://{user}{password}@{host}:{port}/{name}"
    else:
        target = workdir / "shared.sqlite3"
        shutil.copyfile(_sqlite_template(request), target)
        url = f"sqlite:///{target}"
    db = SharedDatabase(url=url, workdir=workdir, env=_env(url, workdir))
    try:
        yield db
    finally:
        db.stop()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


class Browser:
    """A browser session against one server: cookies, CSRF tokens, no automatic redirects."""

    def __init__(self, base: str, *, address: str | None = None) -> None:
        """`address`: the client's, as a reverse proxy forwards it (the server needs HIROBA_PROXY_COUNT=1)."""
        self.base = base
        self.address = address
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect())
        self.token = ""

    def request(self, method: str, path: str, data: dict[str, str] | None = None) -> tuple[int, str, str]:
        """(status, Location, body)."""
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(self.base + path, data=body, method=method)
        if self.address:
            req.add_header("X-Forwarded-For", self.address)
        if body is not None:
            req.add_header("Content-Type", "application/x-www-form-urlencoded")
            req.add_header("Referer", self.base + path)
        try:
            with self.opener.open(req, timeout=30) as resp:
                status, location, text = resp.status, resp.headers.get("Location", ""), resp.read().decode()
        except urllib.error.HTTPError as err:
            status, location, text = err.code, err.headers.get("Location", ""), err.read().decode()
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', text)
        if match:
            self.token = match.group(1)
        return status, location, text

    def get(self, path: str) -> tuple[int, str, str]:
        return self.request("GET", path)

    def post(self, path: str, data: dict[str, str]) -> tuple[int, str, str]:
        if not self.token:
            self.get(path)
        return self.request("POST", path, {**data, "csrfmiddlewaretoken": self.token})
