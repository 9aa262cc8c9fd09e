"""The page cache's WSGI front (hiroba.wsgi's application): a hit answered before Django's
handler with the headers, request id, metrics count and language a hit of the middleware has;
never stale after an invalidation; never for a signed-in reader; a miss looked up once."""

from __future__ import annotations

import io
import sys

import pytest
from django.conf import settings
from django.core import signals
from django.db import close_old_connections

from hiroba.core import health, pagecache
from hiroba.wsgi import django_application

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.core.urls_pagecache")]


@pytest.fixture(autouse=True)
def _connections_kept():
    """As Django's test client does: the handler's signals must not close the test's transaction."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


class Django:
    """Django's application, counting the requests that reached it."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, environ, start_response):
        self.calls += 1
        return django_application(environ, start_response)


@pytest.fixture
def django_app() -> Django:
    return Django()


@pytest.fixture
def front(django_app):
    application = pagecache.WSGIFront(django_app)

    def read(path: str = "/cached/plain/", method: str = "GET", **extra: str):
        environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "testserver",
                   "SERVER_PORT": "80", "HTTP_HOST": "testserver", "wsgi.url_scheme": "http",
                   "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr, "REMOTE_ADDR": "127.0.0.1",
                   "SERVER_PROTOCOL": "HTTP/1.1", **extra}
        answer: dict = {}

        def start_response(status, headers, exc_info=None):
            answer["status"], answer["headers"] = status, headers

        body = application(environ, start_response)
        content = b"".join(body)
        if hasattr(body, "close"):
            body.close()
        return answer["status"], dict(answer["headers"]), content

    return read


def test_the_wsgi_application_is_the_front():
    from hiroba import wsgi

    assert isinstance(wsgi.application, pagecache.WSGIFront) and wsgi.application.application is django_application


def test_a_hit_is_answered_before_django(front, django_app):
    _, miss, first = front()
    assert miss[pagecache.STATUS_HEADER] == "miss" and django_app.calls == 1
    status, hit, second = front()
    assert status == "200 OK" and hit[pagecache.STATUS_HEADER] == "hit" and second == first
    assert django_app.calls == 1  # Django's handler did not run


def test_a_front_hit_has_the_headers_of_a_middleware_hit(front, client):
    client.get("/cached/language/", HTTP_ACCEPT_LANGUAGE="en")
    middleware_hit = client.get("/cached/language/", HTTP_ACCEPT_LANGUAGE="en")
    _, front_hit, content = front("/cached/language/", HTTP_ACCEPT_LANGUAGE="en")
    assert middleware_hit[pagecache.STATUS_HEADER] == front_hit[pagecache.STATUS_HEADER] == "hit"
    expected = {name: value for name, value in middleware_hit.items() if name != "X-Request-ID"}
    assert {name: value for name, value in front_hit.items() if name != "X-Request-ID"} == expected
    assert content == middleware_hit.content and front_hit["Content-Language"] == "en"
    for header in ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy"):
        assert header in front_hit, header


def test_a_front_hit_gets_its_own_request_id_or_nginx_s(front):
    _, miss, _ = front()
    _, hit, _ = front()
    assert hit["X-Request-ID"] != miss["X-Request-ID"]
    _, given, _ = front(HTTP_X_REQUEST_ID="nginx-0123456789abcdef")
    assert given[pagecache.STATUS_HEADER] == "hit" and given["X-Request-ID"] == "nginx-0123456789abcdef"


def test_after_an_invalidation_the_front_serves_the_new_page(front, django_app,
                                                           django_capture_on_commit_callbacks):
    _, _, before = front()
    with django_capture_on_commit_callbacks() as callbacks:
        pagecache.invalidate("tests")  # a publication
        _, in_flight_headers, in_flight = front()  # a reader between the change and its commit
        assert in_flight_headers[pagecache.STATUS_HEADER] == "miss" and in_flight != before
    callbacks[0]()  # the commit
    _, after_headers, after = front()
    assert after_headers[pagecache.STATUS_HEADER] == "miss" and after not in (before, in_flight)
    assert front()[1][pagecache.STATUS_HEADER] == "hit" and django_app.calls == 3


def test_a_signed_in_reader_is_never_served_by_the_front(front, django_app, client, resident):
    front()
    front()
    client.force_login(resident)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    calls = django_app.calls
    _, headers, _ = front(HTTP_COOKIE=f"{settings.SESSION_COOKIE_NAME}={session}")
    assert pagecache.STATUS_HEADER not in headers and "public" not in headers.get("Cache-Control", "")
    assert django_app.calls == calls + 1
    _, headers, _ = front(HTTP_AUTHORIZATION="Bearer x")
    assert pagecache.STATUS_HEADER not in headers and django_app.calls == calls + 2


def test_the_front_chooses_the_language_as_the_locale_middleware_would(front):
    assert front("/cached/language/")[2].startswith(b"language ja")
    _, english, content = front("/cached/language/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")
    assert english[pagecache.STATUS_HEADER] == "miss" and content.startswith(b"language en")
    _, again, content = front("/cached/language/", HTTP_ACCEPT_LANGUAGE="en-US")
    assert again[pagecache.STATUS_HEADER] == "hit" and again["Content-Language"] == "en"
    assert content.startswith(b"language en")
    _, chosen, content = front("/cached/language/", HTTP_ACCEPT_LANGUAGE="en",
                               HTTP_COOKIE=f"{settings.LANGUAGE_COOKIE_NAME}=ja")  # the cookie wins
    assert chosen[pagecache.STATUS_HEADER] == "hit" and chosen["Content-Language"] == "ja"
    assert content.startswith(b"language ja")


def test_a_front_hit_is_counted_in_the_request_metrics(front):
    label = "tests.core.urls_pagecache.plain|GET"
    front()
    before = health.FIGURES.latency.get(label, [0.0])[-1]
    front()
    front()
    assert health.FIGURES.latency[label][-1] == before + 2


def test_a_miss_through_the_front_is_looked_up_once(front, monkeypatch):
    lookups = []
    look_up = pagecache.look_up
    monkeypatch.setattr(pagecache, "look_up", lambda request, started: lookups.append(1) or look_up(request, started))
    assert front()[1][pagecache.STATUS_HEADER] == "miss" and len(lookups) == 1  # the middleware used the front's
    assert front()[1][pagecache.STATUS_HEADER] == "hit" and len(lookups) == 2


def test_writes_and_other_pages_go_to_django(front, django_app):
    status, _, _ = front("/cached/plain/", method="POST")
    assert django_app.calls == 1 and not status.startswith("5")
    front("/healthz")
    front("/healthz")
    assert django_app.calls == 3


def test_with_the_cache_off_or_away_the_front_passes_everything_on(front, django_app, settings):
    settings.HIROBA_PAGECACHE_SECONDS = 0
    front()
    front()
    assert django_app.calls == 2
    settings.HIROBA_PAGECACHE_SECONDS = 300
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:9/0"}}  # nothing listens there
    assert front()[0] == front()[0] == "200 OK" and django_app.calls == 4


def test_an_address_for_another_host_is_refused_by_django(front, django_app):
    front()
    status, _, _ = front(HTTP_HOST="evil.example")
    assert status.startswith("400") and django_app.calls == 2
