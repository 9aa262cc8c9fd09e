"""/healthz, /readyz and /metrics; the Japanese 503 while the database is away."""

from __future__ import annotations

import json

import pytest
from django.db import OperationalError
from django.test import override_settings

from hiroba.core import health


@pytest.fixture(autouse=True)
def _fresh_figures(monkeypatch, settings, tmp_path):
    monkeypatch.setattr(health, "FIGURES", health._Figures())
    settings.HIROBA_METRICS_DIR = str(tmp_path / "metrics")


def test_healthz_answers_without_the_database(client):
    # No django_db mark: any query would fail this test.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_ok_names_each_check(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body == {"status": "ok", "down": [], "checks": {"database": "ok", "cache": "ok", "queue": "ok"}}


@pytest.mark.django_db
def test_readyz_503_names_what_is_down(client, monkeypatch):
    def cache_down() -> None:
        raise ConnectionError("Connection refused (127.0.0.1:6379)")

    monkeypatch.setitem(health.CHECKS, "cache", cache_down)
    response = client.get("/readyz")
    assert response.status_code == 503
    body = json.loads(response.content)
    assert body["status"] == "unavailable" and body["down"] == ["cache"]
    assert body["checks"]["database"] == "ok" and "Connection refused" in body["checks"]["cache"]


@pytest.mark.django_db
def test_metrics_for_the_operator_network_only(client):
    client.get("/healthz")
    client.get("/no-such-page/")
    response = client.get("/metrics")  # the test client's address is 127.0.0.1
    assert response.status_code == 200
    text = response.content.decode()
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    assert 'hiroba_request_duration_seconds_count{view="healthz",method="GET"}' in text
    assert 'hiroba_responses_total{status="404"}' in text
    assert 'hiroba_responses_total{status="429"} 0' in text and 'hiroba_responses_total{status="503"} 0' in text
    for gauge in ("hiroba_task_queue_depth 0", "hiroba_audit_pending_entries", "hiroba_submissions_last_minute 0",
                  "hiroba_database_up 1"):
        assert gauge in text
    outside = client.get("/metrics", REMOTE_ADDR="203.0.113.9")
    assert outside.status_code == 403


@pytest.mark.django_db
def test_metrics_add_up_every_worker(client, settings, tmp_path):
    (tmp_path / "metrics").mkdir()
    other = {"latency": {"core:home|GET": [0] * 10 + [3, 3, 0.3, 3]}, "status": {"503": 2}}
    (tmp_path / "metrics" / "other-host-1.json").write_text(json.dumps(other))
    text = client.get("/metrics").content.decode()
    assert 'hiroba_request_duration_seconds_count{view="core:home",method="GET"} 3' in text
    assert 'hiroba_responses_total{status="503"} 2' in text


@override_settings(DEBUG=False)
def test_database_away_gives_the_japanese_503(client, monkeypatch):
    from hiroba.core import views

    def broken(request):
        raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")

    monkeypatch.setattr(views, "home", broken)
    from django.urls import clear_url_caches

    clear_url_caches()
    client.raise_request_exception = False
    import hiroba.core.urls as core_urls

    monkeypatch.setattr(core_urls.urlpatterns[0], "callback", broken)
    response = client.get("/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    html = response.content.decode()
    assert "保守中" in html and "保存されていません" in html


def test_json_log_lines_carry_the_request_id():
    import logging

    from hiroba.core import logjson, request_context

    record = logging.LogRecord("hiroba.test", logging.WARNING, __file__, 1, "受付 %s", ("2025-BK-0001",), None)
    token = request_context.activate(request_context.RequestContext(request_id="req-12345678", ip_address="192.0.2.7"))
    try:
        assert logjson.RequestContextFilter().filter(record)
    finally:
        request_context.deactivate(token)
    line = json.loads(logjson.JsonFormatter().format(record))
    assert line["request_id"] == "req-12345678" and line["client"] == "192.0.2.7"
    assert line["message"] == "受付 2025-BK-0001" and line["level"] == "WARNING"


def test_log_settings_json_and_plain_both_name_the_request(settings):
    assert settings.LOGGING["handlers"]["console"]["filters"] == ["request"]
    assert "%(request_id)s" in settings.LOGGING["formatters"]["plain"]["format"]


def test_the_503_page_in_english_without_the_database():
    from django.test import RequestFactory
    from django.utils import translation

    with translation.override("en"):
        response = health.unavailable(RequestFactory().get("/"))
    html = response.content.decode()
    assert response.status_code == 503 and 'lang="en"' in html
    assert "has not been saved" in html and "HTTP 503" in html
