"""hiroba's Redis cache backend (HIROBA_CACHE_URL): Django's, with one redis-py client per pool,
shared by the calls and the threads of a process, and the page cache working on it."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.core.cache import caches

from hiroba.core import pagecache
from hiroba.core.rediscache import RedisCache
from tests import redisenv
from tests.redisenv import REDIS_URL


@pytest.fixture(autouse=True)
def _redis() -> None:
    redisenv.require()


def _forget(prefix: str) -> None:
    """This test's keys only (the backend's clear() would empty the whole Redis database)."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=f"{prefix}:*"):
        client.delete(key)


@pytest.fixture
def prefix():
    name = f"hiroba-test-{uuid.uuid4().hex}"
    yield name
    _forget(name)


@pytest.fixture
def backend(prefix):
    return RedisCache(REDIS_URL, {"KEY_PREFIX": prefix})


def test_every_call_uses_the_same_client(backend):
    client = backend._cache.get_client("a")
    assert backend._cache.get_client("b", write=True) is client
    assert client.connection_pool is backend._cache._get_connection_pool(False)


def test_it_stores_and_counts_as_django_s_does(backend):
    backend.set("page", (1, [("Vary", "Cookie")], b"x" * 60_000), 30)
    assert backend.get_many(["page", "missing"]) == {"page": (1, [("Vary", "Cookie")], b"x" * 60_000)}
    assert backend.add("once", 1, 30) is True and backend.add("once", 2, 30) is False
    assert backend.incr("once") == 2 and backend.get("once") == 2
    backend.delete("once")
    assert backend.get("once") is None


def test_threads_sharing_the_client_each_read_their_own_values(backend):
    failures: list[str] = []

    def work(n: int) -> None:
        for i in range(50):
            backend.set(f"t{n}", (n, i), 30)
            if backend.get(f"t{n}") != (n, i):
                failures.append(f"{n}/{i}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


@pytest.mark.django_db
@pytest.mark.urls("tests.core.urls_pagecache")
def test_the_page_cache_serves_hits_from_redis(client, settings, prefix):
    settings.CACHES = {"default": {"BACKEND": "hiroba.core.rediscache.RedisCache", "LOCATION": REDIS_URL,
                                   "KEY_PREFIX": prefix}}
    assert isinstance(caches["default"], RedisCache)
    first, second = client.get("/cached/plain/"), client.get("/cached/plain/")
    assert (first[pagecache.STATUS_HEADER], second[pagecache.STATUS_HEADER]) == ("miss", "hit")
    assert second.content == first.content
    pagecache.invalidate("tests")
    assert client.get("/cached/plain/")[pagecache.STATUS_HEADER] == "miss"
