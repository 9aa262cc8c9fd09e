"""The platform watched: /healthz, /readyz, /metrics, and a Japanese 503 while the database is away.

* ``/healthz``: the process answers (no database, no cache): 200 ``{"status": "ok"}``.
* ``/readyz``: the database, the shared cache and the task queue are reachable: 200, or 503 with
  a JSON body naming what is down (``{"status": "unavailable", "down": ["database"], ...}``).
  nginx and the load balancer take a server out of rotation on 503.
* ``/metrics``: Prometheus text format, only for the operator network (``HIROBA_METRICS_NETWORKS``,
  default loopback; nginx refuses the path from anywhere else, deploy/nginx/hiroba.conf):
  request latency by view (histogram), responses by status (429s and 503s among them), the
  task-queue depth, audit entries not yet linked into the chain, and the apps' own gauges
  (``health_gauges`` on their AppConfig: consultations counts submissions in the last minute).

Request figures are kept per process and written every second or so to
``HIROBA_DATA_DIR/metrics/<host>-<pid>.json``; a scrape of any worker adds up the files of every
worker of the app server (several gunicorn workers answer one port). Counters only grow: a
restarted worker starts a new file, and its old one stays counted.
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.apps import apps as django_apps
from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.module_loading import import_string
from django.views.decorators.cache import never_cache

from hiroba.core.middleware import client_ip

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
FLUSH_SECONDS = 1.0
UNAVAILABLE_RETRY_AFTER = 5  # seconds: a restarting database is usually back within that


class _Figures:
    """This process's request figures."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = {}  # "view|method" → bucket counts…, sum, count
        self.status: dict[str, int] = {}
        self.flushed = 0.0
        self.path: Path | None = None

    def observe(self, view: str, method: str, status: int, seconds: float) -> None:
        with self.lock:
            row = self.latency.setdefault(f"{view}|{method}", [0.0] * (len(BUCKETS) + 2))
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    row[i] += 1
            row[-2] += seconds
            row[-1] += 1
            self.status[str(status)] = self.status.get(str(status), 0) + 1
            due = time.monotonic() - self.flushed >= FLUSH_SECONDS
        if due:
            self.flush()

    def flush(self) -> None:
        with self.lock:
            self.flushed = time.monotonic()
            payload = json.dumps({"latency": self.latency, "status": self.status})
        try:
            folder = metrics_dir()
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / f"{socket.gethostname()}-{os.getpid()}.json"
            partial = target.with_suffix(".partial")
            partial.write_text(payload, encoding="utf-8")
            partial.replace(target)
        except OSError:
            pass  # metrics never fail a request


FIGURES = _Figures()


def metrics_dir() -> Path:
    return Path(getattr(settings, "HIROBA_METRICS_DIR", "") or Path(settings.DATA_DIR) / "metrics")


def unavailable(request: HttpRequest) -> HttpResponse:
    """503 in Japanese (and English when chosen), drawn without the database."""
    html = render_to_string("503.html", {"SITE_NAME": settings.HIROBA_SITE_NAME,
                                         "MUNICIPALITY": settings.HIROBA_MUNICIPALITY})
    response = HttpResponse(html, status=503)
    response["Retry-After"] = str(UNAVAILABLE_RETRY_AFTER)
    response["Cache-Control"] = "no-store"
    return response


class MetricsMiddleware:
    """Outermost: times every request and counts its status; a request the database could not
    serve (restarting, connection dropped) gets the Japanese 503 page instead of a 500, and the
    next request opens a fresh connection — the server recovers without a restart."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = (match.view_name if match is not None else "") or "unmatched"
        FIGURES.observe(view, request.method or "", response.status_code, time.perf_counter() - started)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, OperationalError | InterfaceError):
            connection.close()
            return unavailable(request)
        return None


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _check_cache() -> None:
    from django.core.cache import cache

    key = f"hiroba:readyz:{socket.gethostname()}:{os.getpid()}"
    value = str(time.time())
    cache.set(key, value, 30)
    if cache.get(key) != value:
        raise RuntimeError("the cache did not return what was just stored")


def queue_depth() -> int:
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.ready().count()


CHECKS: dict[str, Callable[[], Any]] = {"database": _check_database, "cache": _check_cache, "queue": queue_depth}


@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request: HttpRequest) -> HttpResponse:
    checks: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            check()
            checks[name] = "ok"
        except Exception as exc:  # noqa: BLE001 (any failure means: not ready)
            checks[name] = f"down: {type(exc).__name__}: {str(exc)[:200]}"
            if isinstance(exc, DatabaseError):
                connection.close()
    down = [name for name, state in checks.items() if state != "ok"]
    body = {"status": "unavailable" if down else "ok", "down": down, "checks": checks}
    return JsonResponse(body, status=503 if down else 200, json_dumps_params={"ensure_ascii": False})


def operator_allowed(request: HttpRequest) -> bool:
    address = client_ip(request)
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(net, strict=False) for net in settings.HIROBA_METRICS_NETWORKS)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def collect() -> tuple[dict[str, list[float]], dict[str, int]]:
    """Every worker's figures added up (this one's flushed first)."""
    FIGURES.flush()
    latency: dict[str, list[float]] = {}
    status: dict[str, int] = {}
    for path in sorted(metrics_dir().glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        for key, row in data.get("latency", {}).items():
            total = latency.setdefault(key, [0.0] * len(row))
            for i, v in enumerate(row):
                total[i] += v
        for code, n in data.get("status", {}).items():
            status[code] = status.get(code, 0) + n
    return latency, status


def app_gauges() -> dict[str, tuple[str, Callable[[], int]]]:
    """The gauges the apps declare on their AppConfig, in INSTALLED_APPS order:
    ``health_gauges = {"hiroba_<name>": ("help text", "hiroba.<app>.health.<callable>")}``, the
    callable taking nothing and returning a number. Core reads them without naming any app."""
    gauges: dict[str, tuple[str, Callable[[], int]]] = {}
    for config in django_apps.get_app_configs():
        for name, (help_text, path) in getattr(config, "health_gauges", {}).items():
            gauges[name] = (help_text, import_string(path))
    return gauges


def _gauges() -> dict[str, tuple[str, float | None]]:
    from hiroba.core.audit import pending_count

    gauges: dict[str, tuple[str, Callable[[], int]]] = {
        "hiroba_task_queue_depth": ("Background tasks waiting in the queue.", queue_depth),
        "hiroba_audit_pending_entries": ("Audit entries not yet linked into the chain.", pending_count),
        **app_gauges(),
    }
    values: dict[str, tuple[str, float | None]] = {}
    for name, (help_text, read) in gauges.items():
        try:
            values[name] = (help_text, float(read()))
        except DatabaseError:
            connection.close()
            values[name] = (help_text, None)
    return values


@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    if not operator_allowed(request):
        return HttpResponse("403 Forbidden: the operator network only\n", status=403, content_type="text/plain")
    latency, status = collect()
    lines = ["# HELP hiroba_request_duration_seconds Time to answer a request, by view and method.",
             "# TYPE hiroba_request_duration_seconds histogram"]
    for key in sorted(latency):
        view, method = key.split("|", 1)
        row = latency[key]
        labels = f'view="{_escape(view)}",method="{_escape(method)}"'
        for bound, n in zip(BUCKETS, row, strict=False):
            lines.append(f'hiroba_request_duration_seconds_bucket{{{labels},le="{bound}"}} {int(n)}')
        lines.append(f'hiroba_request_duration_seconds_bucket{{{labels},le="+Inf"}} {int(row[-1])}')
        lines.append(f"hiroba_request_duration_seconds_sum{{{labels}}} {row[-2]:.6f}")
        lines.append(f"hiroba_request_duration_seconds_count{{{labels}}} {int(row[-1])}")
    lines += ["# HELP hiroba_responses_total Responses by HTTP status (429: rate limited, 503: shed or database away).",
              "# TYPE hiroba_responses_total counter"]
    for code in ("429", "503"):
        status.setdefault(code, 0)
    for code in sorted(status):
        lines.append(f'hiroba_responses_total{{status="{code}"}} {status[code]}')
    database_up = 1
    for name, (help_text, value) in _gauges().items():
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
        if value is None:
            database_up = 0
        else:
            lines.append(f"{name} {value:g}")
    lines += ["# HELP hiroba_database_up 1 when the database answered this scrape.", "# TYPE hiroba_database_up gauge",
              f"hiroba_database_up {database_up}"]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; version=0.0.4; charset=utf-8")
