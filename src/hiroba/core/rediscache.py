"""Django's Redis cache backend, with one redis-py client per connection pool (HIROBA_CACHE_URL).

Django's `RedisCacheClient.get_client` builds a new `redis.Redis` for every cache call; each one
fills its table of some 170 response callbacks before it sends a byte, which was a third of the
interpreter time of a page-cache hit (issue 20, docs/performance.md). A redis-py client is safe to
share between threads (each command borrows a connection from the pool), so the client here keeps
the one it built for each pool and hands it out again. Everything else is Django's.
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class ReusingRedisCacheClient(RedisCacheClient):
    def __init__(self, servers: list[str], **options: Any) -> None:
        super().__init__(servers, **options)
        self._clients: dict[int, Any] = {}  # id of the pool → its client; pools live as long as this

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        # Django's own get_client, but for the client kept (its private members: Django 5.2's).
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients.setdefault(id(pool), self._client(connection_pool=pool))  # type: ignore[attr-defined]
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient
