"""The whole-page cache (hiroba.core.pagecache) on views marked for it: what it keeps, what it
never keeps, and that a hit is answered with every header the page had."""

from __future__ import annotations

import pytest
from csp.constants import NONCE
from django.conf import settings
from django.contrib.sessions.middleware import SessionMiddleware
from django.test import Client

from hiroba.core import health, pagecache

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


OLD_PLACE = "whitenoise.middleware.WhiteNoiseMiddleware"  # where the middleware stood before (issue 20)
PAGECACHE = "hiroba.core.pagecache.PageCacheMiddleware"


def _headers(response) -> dict[str, str]:
    return {name: value for name, value in response.items() if name != "X-Request-ID"}


def test_the_page_cache_is_the_first_middleware():
    assert settings.MIDDLEWARE[0] == PAGECACHE


def test_a_hit_is_answered_before_the_sessions_and_the_metrics_middleware_run(client, monkeypatch):
    client.get("/cached/plain/")
    below = []
    sessions, metrics = SessionMiddleware.process_request, health.MetricsMiddleware.__call__
    monkeypatch.setattr(SessionMiddleware, "process_request",
                        lambda self, request: below.append("session") or sessions(self, request))
    monkeypatch.setattr(health.MetricsMiddleware, "__call__",
                        lambda self, request: below.append("metrics") or metrics(self, request))
    assert client.get("/cached/plain/")[pagecache.STATUS_HEADER] == "hit"
    assert below == []
    assert client.get("/cached/cookie/") and below == ["metrics", "session"]  # a miss goes down the stack


@pytest.mark.parametrize(("secure", "language"), [(False, "ja"), (True, "ja"), (True, "en")])
def test_a_hit_has_the_headers_a_hit_had_when_it_was_served_below_whitenoise(settings, secure, language):
    settings.SECURE_HSTS_SECONDS = 3600
    first = list(settings.MIDDLEWARE)
    old = [name for name in first if name != PAGECACHE]
    old.insert(old.index(OLD_PLACE) + 1, PAGECACHE)
    read = {"secure": secure, "HTTP_ACCEPT_LANGUAGE": language}
    settings.MIDDLEWARE = old
    old_client = Client()
    old_client.get("/cached/language/", **read)
    before = old_client.get("/cached/language/", **read)
    pagecache.invalidate("tests")  # the next entry is stored by the middleware in its new place
    settings.MIDDLEWARE = first
    new_client = Client()
    miss = new_client.get("/cached/language/", **read)
    after = new_client.get("/cached/language/", **read)
    assert before[pagecache.STATUS_HEADER] == after[pagecache.STATUS_HEADER] == "hit"
    assert _headers(after) == _headers(before)
    assert _headers(after) == {**_headers(miss), pagecache.STATUS_HEADER: "hit"}  # what the whole stack sent
    assert after["Content-Language"] == language and after.content == miss.content
    assert after.content.startswith(f"language {language} #".encode())
    assert ("Strict-Transport-Security" in after) is secure
    assert after["X-Request-ID"] not in (before["X-Request-ID"], miss["X-Request-ID"])


def test_a_hit_keeps_the_request_id_nginx_gave_it(client):
    client.get("/cached/plain/")
    response = client.get("/cached/plain/", HTTP_X_REQUEST_ID="nginx-0123456789abcdef")
    assert response[pagecache.STATUS_HEADER] == "hit" and response["X-Request-ID"] == "nginx-0123456789abcdef"


def test_the_language_of_a_hit_is_the_one_the_locale_middleware_would_choose(client):
    assert client.get("/cached/language/").content.startswith(b"language ja")  # 日本語 first
    english = client.get("/cached/language/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")
    assert english[pagecache.STATUS_HEADER] == "miss" and english.content.startswith(b"language en")
    again = client.get("/cached/language/", HTTP_ACCEPT_LANGUAGE="en-US")  # the same language, another variant
    assert again[pagecache.STATUS_HEADER] == "hit" and again["Content-Language"] == "en"
    assert again.content == english.content
    french = client.get("/cached/language/", HTTP_ACCEPT_LANGUAGE="fr")  # not offered: 日本語
    assert french[pagecache.STATUS_HEADER] == "hit" and french.content.startswith(b"language ja")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ja"  # the cookie wins over the browser's language
    chosen = client.get("/cached/language/", HTTP_ACCEPT_LANGUAGE="en")
    assert chosen[pagecache.STATUS_HEADER] == "hit" and chosen["Content-Language"] == "ja"


def test_a_signed_in_reader_with_an_entry_for_the_page_gets_it_rendered(client, resident):
    client.get("/cached/plain/", HTTP_ACCEPT_LANGUAGE="en")
    client.get("/cached/plain/")
    client.force_login(resident)
    for language in ("ja", "en"):
        response = client.get("/cached/plain/", HTTP_ACCEPT_LANGUAGE=language)
        assert pagecache.STATUS_HEADER not in response and "public" not in response.get("Cache-Control", "")


def test_a_head_is_answered_from_the_entry_and_a_head_miss_fills_it(client):
    head = client.head("/cached/plain/")
    assert head.status_code == 200 and head[pagecache.STATUS_HEADER] == "miss" and head.content == b""
    get = client.get("/cached/plain/")
    assert get[pagecache.STATUS_HEADER] == "hit" and get["Content-Length"] == head["Content-Length"]
    assert get.content.startswith(b"plain #")
    again = client.head("/cached/plain/")
    assert again[pagecache.STATUS_HEADER] == "hit" and again.content == b""
    assert _headers(again) == _headers(get)


def test_a_hit_is_counted_in_the_request_metrics_under_its_view(client):
    label = "tests.core.urls_pagecache.plain|GET"
    client.get("/cached/plain/")
    before = health.FIGURES.latency.get(label, [0.0])[-1]
    client.get("/cached/plain/")
    client.get("/cached/plain/")
    assert health.FIGURES.latency[label][-1] == before + 2
    assert health.FIGURES.status["200"] >= 2


def test_a_page_with_a_csp_nonce_is_not_kept(client, settings):
    policy = settings.CONTENT_SECURITY_POLICY
    settings.CONTENT_SECURITY_POLICY = {**policy, "DIRECTIVES": {**policy["DIRECTIVES"], "script-src": [NONCE]}}
    first, second = client.get("/cached/nonce/"), client.get("/cached/nonce/")
    assert "'nonce-" in second["Content-Security-Policy"] and pagecache.STATUS_HEADER not in second
    assert second.content != first.content


def test_an_address_for_another_host_is_refused_as_before(client):
    client.get("/cached/plain/")
    assert client.get("/cached/plain/", HTTP_HOST="evil.example").status_code == 400


def test_with_the_https_redirect_on_a_plain_http_reader_is_redirected(client, settings):
    settings.SECURE_SSL_REDIRECT = True  # read when the middleware is loaded, at the first request
    client.get("/cached/plain/", secure=True)
    assert client.get("/cached/plain/", secure=True)[pagecache.STATUS_HEADER] == "hit"
    assert client.get("/cached/plain/").status_code == 301
