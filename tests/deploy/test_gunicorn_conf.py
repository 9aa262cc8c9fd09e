"""deploy/gunicorn.conf.py: every value from the environment, a worker recycled rarely."""

from __future__ import annotations

import runpy
from pathlib import Path

CONF = Path(__file__).resolve().parents[2] / "deploy" / "gunicorn.conf.py"


def test_a_worker_is_replaced_after_100000_requests_by_default(monkeypatch):
    monkeypatch.delenv("HIROBA_WEB_MAX_REQUESTS", raising=False)
    conf = runpy.run_path(str(CONF))
    # 5,000 replaced a worker every 4 s under a flood of cached reads (docs/performance.md)
    assert conf["max_requests"] == 100_000
    assert conf["max_requests_jitter"] == 10_000
    assert conf["worker_class"] == "gthread"


def test_the_operator_sets_the_recycling(monkeypatch):
    monkeypatch.setenv("HIROBA_WEB_MAX_REQUESTS", "20000")
    monkeypatch.setenv("HIROBA_BIND", "127.0.0.1:8123")
    conf = runpy.run_path(str(CONF))
    assert (conf["max_requests"], conf["max_requests_jitter"], conf["bind"]) == (20_000, 2_000, "127.0.0.1:8123")
