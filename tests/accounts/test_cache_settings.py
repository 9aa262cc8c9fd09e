"""Which cache hiroba uses: one every process shares (the database's) unless HIROBA_CACHE_URL
names a Redis; never a per-process cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.cache import cache

pytestmark = pytest.mark.django_db

SHOW = "import json, hiroba.settings as s; print(json.dumps(s.CACHES['default']))"


def _caches(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HIROBA_")}
    return subprocess.run([sys.executable, "-c", SHOW], env={**clean, **env}, capture_output=True, text=True,
                          timeout=60)


def test_the_default_cache_is_the_database_shared_by_every_process(tmp_path):
    result = _caches(HIROBA_DATA_DIR=str(tmp_path))
    default = json.loads(result.stdout)
    assert default["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    assert default["LOCATION"] == "hiroba_cache" and default["KEY_PREFIX"] == "hiroba"


def test_a_redis_url_selects_redis(tmp_path):
    result = _caches(HIROBA_DATA_DIR=str(tmp_path), HIROBA_CACHE_URL="redis://127.0.0.1:6379/3",
                     HIROBA_CACHE_KEY_PREFIX="ward-a")
    default = json.loads(result.stdout)
    assert default == {"BACKEND": "hiroba.core.rediscache.RedisCache",
                       "LOCATION": "redis://127.0.0.1:6379/3", "KEY_PREFIX": "ward-a"}


def test_a_cache_url_that_is_not_redis_is_refused(tmp_path):
    result = _caches(HIROBA_DATA_DIR=str(tmp_path), HIROBA_CACHE_URL="memcached://127.0.0.1:11211")
    assert result.returncode != 0 and "HIROBA_CACHE_URL" in result.stderr


def test_the_cache_table_exists_after_migrating():
    assert settings.CACHES["default"]["BACKEND"].endswith("DatabaseCache")
    assert cache.add("hiroba-test-key", "y", timeout=60) is True
    assert cache.add("hiroba-test-key", "y", timeout=60) is False  # what the TOTP replay guard relies on
