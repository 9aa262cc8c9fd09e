"""The results page inside one process: the interpreter time of a page-cache hit and of a render.

    python bench/pagecache_hit.py                                   # Redis at 127.0.0.1:6379/7
    python bench/pagecache_hit.py --cache redis://127.0.0.1:6379/9 --reads 5000
    python bench/pagecache_hit.py --cache db                        # the database cache (SQLite)

The seed consultation (shared/fixtures, 12 opinions, published as 第1版) is imported into a fresh
SQLite database in a temporary folder; its results page (51 KB) is then asked of Django's WSGI
handler directly, with the production middleware and no network, no nginx and no gunicorn: what
one app-server worker spends on a read, apart from HTTP. Printed: wall-clock and CPU (this
process's user + system, which another process on the machine moves less) per read, for a hit
answered by the middleware inside Django's handler and for one answered by the WSGI front before it
(hiroba.wsgi's application; `--reads`, three rounds each) and for a render (the page cache off,
`--renders`), and the ratios.
The Redis database named is the benchmark's: give it one nobody else uses (the keys are prefixed
with this run's own name, and only they are removed at the end).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

SEED = ROOT / "src" / "hiroba" / "consultations" / "fixtures" / "chiyoda-dx-strategy-2025" / "consultation.json"
PATH = "/consultations/bench-results/results/"
SETTINGS = '''from hiroba.settings import *  # noqa: F401,F403
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
'''


def environ() -> dict:
    """A read as nginx passes it on (deploy/nginx/hiroba-proxy.conf): its request id, one proxy."""
    return {"REQUEST_METHOD": "GET", "PATH_INFO": PATH, "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8080", "HTTP_HOST": "127.0.0.1:8080", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(),
            "wsgi.errors": sys.stderr, "REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "127.0.0.1",
            "HTTP_X_REQUEST_ID": uuid.uuid4().hex, "SERVER_PROTOCOL": "HTTP/1.1"}


def timed(app, reads: int) -> dict:
    answers: dict[str, str] = {}

    def start(status: str, headers: list, exc_info=None) -> None:
        answers["status"], answers["cache"] = status, dict(headers).get("X-Hiroba-Cache", "")

    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(reads):
        body = app(environ(), start)
        b"".join(body)
        if hasattr(body, "close"):  # a WSGI iterable may have close (PEP 3333)
            body.close()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"wall_ms": round(wall / reads * 1000, 3), "cpu_ms": round(cpu / reads * 1000, 3), **answers}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", default="redis://127.0.0.1:6379/7", help="redis://… or db (the database cache)")
    parser.add_argument("--reads", type=int, default=3000, help="hits a round (three rounds)")
    parser.add_argument("--renders", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hiroba-bench-pagecache-") as tmp:
        (Path(tmp) / "hiroba_pagecache_bench_settings.py").write_text(SETTINGS, encoding="utf-8")
        (Path(tmp) / "data" / "static").mkdir(parents=True)  # WhiteNoise's folder (nothing is collected)
        sys.path.insert(0, tmp)
        prefix = f"hiroba-bench-{uuid.uuid4().hex}"
        os.environ.update({"HIROBA_DATA_DIR": str(Path(tmp) / "data"), "DATABASE_URL": f"sqlite:///{tmp}/db.sqlite3",
                           "HIROBA_DEBUG": "0", "HIROBA_HTTPS": "0", "HIROBA_SECRET_KEY": "bench-" + uuid.uuid4().hex * 2,
                           "HIROBA_PROXY_COUNT": "1", "HIROBA_CACHE_KEY_PREFIX": prefix,
                           "DJANGO_SETTINGS_MODULE": "hiroba_pagecache_bench_settings"})
        if args.cache != "db":
            os.environ["HIROBA_CACHE_URL"] = args.cache
        import django

        django.setup()
        from django.core.handlers.wsgi import WSGIHandler
        from django.core.management import call_command
        from django.test import override_settings

        call_command("migrate", verbosity=0)
        call_command("consultation", "import", str(SEED), "--slug", "bench-results", stdout=io.StringIO())
        from hiroba.core.pagecache import WSGIFront

        app = WSGIHandler()
        front = WSGIFront(app)  # hiroba.wsgi's application
        try:
            first = timed(app, 1)
            if first["cache"] != "miss" or timed(app, 1)["cache"] != "hit":
                sys.exit(f"the results page was not kept by the page cache: {first}")
            hits = [timed(app, args.reads) for _ in range(3)]
            front_hits = [timed(front, args.reads) for _ in range(3)]
            if front_hits[0]["cache"] != "hit":
                sys.exit(f"the WSGI front did not answer the hit: {front_hits[0]}")
            with override_settings(HIROBA_PAGECACHE_SECONDS=0):
                render = timed(app, args.renders)
        finally:
            if args.cache != "db":
                import redis

                client = redis.Redis.from_url(args.cache)
                for key in client.scan_iter(match=f"{prefix}:*"):
                    client.delete(key)
    print(json.dumps({"cache": args.cache, "hit_middleware": hits, "hit_front": front_hits, "render": render,
                      "ratio_cpu": {"middleware": _ratio(render, hits, "cpu_ms"), "front": _ratio(render, front_hits, "cpu_ms")},
                      "ratio_wall": {"middleware": _ratio(render, hits, "wall_ms"),
                                     "front": _ratio(render, front_hits, "wall_ms")}}, ensure_ascii=False))


def _ratio(render: dict, hits: list[dict], measure: str) -> float:
    return round(render[measure] / min(h[measure] for h in hits), 1)


if __name__ == "__main__":
    main()
