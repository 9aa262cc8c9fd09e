"""The local Redis the shared-cache tests use (127.0.0.1:6379, started by `make test` through
scripts/ensure-redis.sh). Run through `make test` or CI (HIROBA_TEST_REDIS=required) a missing
Redis fails those tests; a bare `pytest` on a machine without Redis skips them."""

from __future__ import annotations

import os

import pytest

REDIS_URL = "redis://127.0.0.1:6379/0"


def reachable() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except Exception:
        return False


def require() -> None:
    """Skip (or, where Redis is required, fail) the calling test when Redis does not answer."""
    if reachable():
        return
    message = f"Redis is not reachable at {REDIS_URL}"
    if os.environ.get("HIROBA_TEST_REDIS") == "required":
        pytest.fail(message + " (HIROBA_TEST_REDIS=required: run scripts/ensure-redis.sh)")
    pytest.skip(message)
