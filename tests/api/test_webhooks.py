"""Webhooks: a signed POST when a department's consultation opens, closes or publishes results;
a failed delivery is tried again 5 minutes later, 5 tries in all, every attempt logged."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from hiroba.api import webhooks
from hiroba.api.models import Webhook, WebhookDelivery
from hiroba.consultations import services
from hiroba.consultations.models import Case
from hiroba.core import paging

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver():
    """A subscriber on 127.0.0.1 that records what it gets and answers `status` (settable)."""
    got: list[dict] = []
    state = {"status": 200}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            got.append({"headers": dict(self.headers), "body": body})
            self.send_response(state["status"])
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", got, state
    server.shutdown()


def test_opening_a_case_sends_a_signed_post(receiver, make_case, departments, django_capture_on_commit_callbacks):
    url, got, _ = receiver
    hook, secret = webhooks.hook_create(actor="test", department=departments["digital"], url=url,
                                        events=["consultation.opened", "consultation.closed"])
    case = make_case(state=Case.State.PREPARING)
    with django_capture_on_commit_callbacks(execute=True):
        services.case_transition(actor="test", case=case, to=Case.State.OPEN)
    delivery = WebhookDelivery.objects.get()
    assert delivery.event == "consultation.opened" and delivery.state == "pending"
    webhooks.deliver(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.state == "delivered" and delivery.attempts == 1 and delivery.last_status == 200
    body = got[0]["body"]
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert got[0]["headers"]["X-Hiroba-Signature"] == expected
    payload = json.loads(body)
    assert payload["event"] == "consultation.opened" and payload["consultation"]["slug"] == case.slug
    # a case of another department tells this hook nothing
    other = make_case(slug="other", department="care", state=Case.State.PREPARING)
    services.case_transition(actor="test", case=other, to=Case.State.OPEN)
    assert WebhookDelivery.objects.count() == 1


def test_a_failing_subscriber_is_tried_five_times_five_minutes_apart(receiver, make_case, departments):
    from django_tasks_db.models import DBTaskResult

    url, got, state = receiver
    state["status"] = 503
    webhooks.hook_create(actor="test", department=departments["digital"], url=url, events=["consultation.opened"])
    case = make_case(state=Case.State.PREPARING)
    services.case_transition(actor="test", case=case, to=Case.State.OPEN)
    delivery = WebhookDelivery.objects.get()
    for attempt in range(1, 6):
        before = timezone.now()
        webhooks.deliver(delivery.pk)
        delivery.refresh_from_db()
        assert delivery.attempts == attempt and delivery.last_status == 503
        if attempt < 5:
            assert delivery.state == "pending"
            assert delivery.next_attempt_at >= before + timedelta(minutes=5)
    assert delivery.state == "failed" and delivery.next_attempt_at is None and len(got) == 5
    retries = DBTaskResult.objects.filter(task_path="hiroba.api.tasks.deliver_webhook")
    assert retries.count() == 4 and all(r.run_after is not None for r in retries)
    webhooks.deliver(delivery.pk)  # a late retry of a finished delivery sends nothing
    assert len(got) == 5


def test_an_unreachable_subscriber_is_logged(make_case, departments):
    webhooks.hook_create(actor="test", department=departments["digital"], url="http://127.0.0.1:9/none",
                         events=["consultation.opened"])
    case = make_case(state=Case.State.PREPARING)
    services.case_transition(actor="test", case=case, to=Case.State.OPEN)
    delivery = webhooks.deliver(WebhookDelivery.objects.get().pk)
    assert delivery.state == "pending" and delivery.last_status is None and delivery.last_error


def test_publishing_results_notifies_with_the_version(receiver, approved_case, clerk, departments):
    url, got, _ = receiver
    webhooks.hook_create(actor="test", department=departments["digital"], url=url, events=["consultation.published"])
    services.case_publish(actor=clerk, case=approved_case)
    delivery = webhooks.deliver(WebhookDelivery.objects.get(event="consultation.published").pk)
    assert delivery.state == "delivered"
    assert json.loads(got[0]["body"])["consultation"]["results_version"] == 1


def test_the_command_adds_lists_logs_and_disables(departments, staff_client):
    out = StringIO()
    call_command("api", "webhook", "add", "--department", "digital", "--url", "https://example.jp/hook",
                 "--event", "consultation.published", stdout=out)
    secret = out.getvalue().strip().splitlines()[-1]
    out = StringIO()
    call_command("api", "webhook", "list", stdout=out)
    assert "https://example.jp/hook" in out.getvalue() and secret not in out.getvalue()
    hook_id = out.getvalue().split("\t")[0]
    call_command("api", "webhook", "log", hook_id, stdout=StringIO())
    call_command("api", "webhook", "disable", hook_id, stdout=StringIO())
    page = staff_client.get("/staff/api/webhooks/")
    assert page.status_code == 200 and "https://example.jp/hook" in page.content.decode()


def test_the_staff_screen_registers_a_hook_shows_its_secret_once_and_stops_it(client, make_staff):
    from hiroba.accounts.models import Role
    from hiroba.api.models import Webhook
    from hiroba.core.models import AuditEntry, Department

    clerk = make_staff(email="handle@example.jp", role=Role.HANDLE).user
    client.force_login(clerk)
    assert client.get("/staff/api/webhooks/new/").status_code == 403  # 担当 only: may read the log, not register
    assert "Webhook を登録する" not in client.get("/staff/api/webhooks/").content.decode()
    head = make_staff(email="head@example.jp", role=Role.APPROVE).user
    client.force_login(head)
    digital = Department.objects.get(code="digital")
    bad = client.post("/staff/api/webhooks/new/", {"department": digital.pk, "url": "ftp://x", "events": []})
    assert bad.status_code == 400 and not Webhook.objects.exists()
    assert "通知する出来事" in bad.content.decode()
    response = client.post("/staff/api/webhooks/new/", {"department": digital.pk, "url": "https://renkei.example.jp/h",
                                                        "events": ["consultation.opened"]})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    hook = Webhook.objects.get()
    assert hook.secret in response.content.decode() and hook.created_by == head
    listing = client.get("/staff/api/webhooks/").content.decode()
    assert "https://renkei.example.jp/h" in listing and hook.secret not in listing
    # the handling clerk cannot stop it; the head can, and a second press changes nothing
    client.force_login(clerk)
    assert client.post(f"/staff/api/webhooks/{hook.pk}/disable/").status_code == 404
    client.force_login(head)
    for _ in range(2):
        assert client.post(f"/staff/api/webhooks/{hook.pk}/disable/").status_code == 302
    hook.refresh_from_db()
    assert not hook.is_active
    from hiroba.core import audit

    audit.chain_pending()
    assert AuditEntry.objects.filter(action="api.webhook_create").count() == 1
    assert AuditEntry.objects.filter(action="api.webhook_disable").count() == 1


def test_a_hook_for_a_department_the_staff_member_does_not_approve_for_is_refused(make_staff):
    from hiroba.accounts.models import Role
    from hiroba.core.errors import NotAllowed
    from hiroba.core.models import Department

    head = make_staff(email="head@example.jp", role=Role.APPROVE).user  # 承認 in digital only
    other = Department.objects.exclude(code="digital").first()
    with pytest.raises(NotAllowed):
        webhooks.hook_create(actor=head, department=other, url="https://x.example.jp/", events=["consultation.opened"])


def test_the_staff_webhook_list_is_paginated(departments, staff_client, monkeypatch):
    monkeypatch.setattr(paging, "PER_PAGE", 2)
    for i in range(3):
        Webhook.objects.create(department=departments["digital"], url=f"https://example.jp/hook-{i}", secret="s",
                               events=["consultation.published"])
    first = staff_client.get("/staff/api/webhooks/").content.decode()
    assert first.count("https://example.jp/hook-") == 2 and 'class="pagination"' in first and "?page=2" in first
    second = staff_client.get("/staff/api/webhooks/?page=2").content.decode()
    assert second.count("https://example.jp/hook-") == 1
