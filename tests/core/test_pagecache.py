"""The whole-page cache (hiroba.core.pagecache) on views marked for it: what it keeps, what it
never keeps, and that a hit is answered with every header the page had."""

from __future__ import annotations

import pytest
from django.conf import settings

from hiroba.core import pagecache

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.core.urls_pagecache")]


def test_a_second_anonymous_read_is_served_from_the_cache(client):
    first, second = client.get("/cached/plain/"), client.get("/cached/plain/")
    assert first[pagecache.STATUS_HEADER] == "miss" and second[pagecache.STATUS_HEADER] == "hit"
    assert second.content == first.content  # the view did not run again
    assert second["Cache-Control"] == f"public, max-age={settings.HIROBA_PAGECACHE_MAX_AGE}"
    assert {"Accept-Language", "Cookie"} <= {v.strip() for v in second["Vary"].split(",")}


def test_a_hit_carries_the_security_headers_and_its_own_request_id(client):
    first, second = client.get("/cached/plain/"), client.get("/cached/plain/")
    assert second[pagecache.STATUS_HEADER] == "hit"
    for header in ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy",
                   "Cross-Origin-Opener-Policy"):
        assert second[header] == first[header], header
    assert second["X-Request-ID"] != first["X-Request-ID"]


def test_an_invalidation_is_seen_by_the_next_reader(client):
    before = client.get("/cached/plain/").content
    pagecache.invalidate("tests")
    response = client.get("/cached/plain/")
    assert response[pagecache.STATUS_HEADER] == "miss" and response.content != before


def test_a_page_rendered_before_the_commit_is_left_behind_by_it(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        pagecache.invalidate("tests")
        in_flight = client.get("/cached/plain/")  # a reader between the change and its commit
        assert client.get("/cached/plain/")[pagecache.STATUS_HEADER] == "hit"
    assert len(callbacks) == 1
    callbacks[0]()  # the commit
    after = client.get("/cached/plain/")
    assert after[pagecache.STATUS_HEADER] == "miss" and after.content != in_flight.content


def test_a_signed_in_reader_never_gets_the_cached_page(client, resident):
    client.get("/cached/plain/")
    client.force_login(resident)
    response = client.get("/cached/plain/")
    assert pagecache.STATUS_HEADER not in response and "public" not in response.get("Cache-Control", "")


def test_a_response_that_sets_a_cookie_is_not_kept(client):
    first, second = client.get("/cached/cookie/"), client.get("/cached/cookie/")
    assert "seen" in first.cookies and "seen" in second.cookies
    assert second.content != first.content and pagecache.STATUS_HEADER not in second


def test_a_page_with_a_csrf_token_is_not_kept(client):
    client.get("/cached/token/")
    response = client.get("/cached/token/")
    assert pagecache.STATUS_HEADER not in response and settings.CSRF_COOKIE_NAME in response.cookies


def test_a_private_page_is_not_kept(client):
    first, second = client.get("/cached/private/"), client.get("/cached/private/")
    assert second.content != first.content and second["Cache-Control"] == "private"


def test_each_language_is_kept_apart(client):
    client.get("/cached/plain/")
    assert client.get("/cached/plain/", HTTP_ACCEPT_LANGUAGE="en")[pagecache.STATUS_HEADER] == "miss"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert client.get("/cached/plain/")[pagecache.STATUS_HEADER] == "hit"  # the English one


def test_the_query_string_is_part_of_the_key(client):
    client.get("/cached/plain/?month=2025-04")
    assert client.get("/cached/plain/?month=2025-05")[pagecache.STATUS_HEADER] == "miss"


def test_a_reader_with_pending_messages_is_not_served_from_the_cache(client):
    client.get("/cached/plain/")
    client.cookies["messages"] = "x"
    assert pagecache.STATUS_HEADER not in client.get("/cached/plain/")


def test_seconds_zero_turns_it_off(client, settings):
    settings.HIROBA_PAGECACHE_SECONDS = 0
    client.get("/cached/plain/")
    assert pagecache.STATUS_HEADER not in client.get("/cached/plain/")


def test_with_the_cache_away_the_page_is_rendered_as_if_it_were_off(client, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:9/0"}}  # nothing listens there
    first, second = client.get("/cached/plain/"), client.get("/cached/plain/")
    assert first.status_code == second.status_code == 200 and second.content != first.content
