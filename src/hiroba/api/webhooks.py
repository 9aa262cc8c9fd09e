"""Webhooks: a department's systems are told when its consultations open, close or publish results.

Each delivery is a POST of JSON signed with the hook's secret (header ``X-Hiroba-Signature:
sha256=<hex HMAC-SHA256 of the body>``), queued after the commit of the change and sent by the
background worker; a failure (no answer, or a status other than 2xx) is tried again 5 minutes
later, 5 tries in all. Every attempt is kept on the delivery (the log staff read).

The events come from the case's own saves (the consultations services change `state` and save):
the API module listens, so the consultation services know nothing of webhooks.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import urllib.error
import urllib.request
from collections.abc import Iterable
from datetime import timedelta
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hiroba.accounts import permissions
from hiroba.accounts.models import Role
from hiroba.api import audit_actions
from hiroba.api.models import Webhook, WebhookDelivery, WebhookEvent
from hiroba.core import audit
from hiroba.core.actors import Actor, ActorLike
from hiroba.core.errors import NotAllowed, ServiceError
from hiroba.core.models import Department

MAX_ATTEMPTS = 5
RETRY_DELAY = timedelta(minutes=5)
TIMEOUT_SECONDS = 10
STATE_EVENTS = {"open": WebhookEvent.OPENED, "tallying": WebhookEvent.CLOSED, "published": WebhookEvent.PUBLISHED}


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _check_may_manage(actor: ActorLike, department_id: int) -> None:
    """A staff member registers or stops a department's hooks only with 承認 there (they send the
    department's events out of hiroba); the command line (a string actor) is the operator's."""
    a = Actor.of(actor)
    if a.user is not None and not permissions.has_role(a.user, department_id, Role.APPROVE):
        raise NotAllowed(_("この所属の Webhook を登録・停止するには、所属の承認の役割が必要です。"))


def manageable_departments(user: Any) -> QuerySet[Department]:
    """The departments whose hooks `user` may register or stop."""
    ids = permissions.department_ids(user, Role.APPROVE)
    qs = Department.objects.order_by("sort_order", "code")
    return qs if ids is None else qs.filter(pk__in=ids)


@transaction.atomic
def hook_create(*, actor: ActorLike, department: Department, url: str, events: Iterable[str]) -> tuple[Webhook, str]:
    _check_may_manage(actor, department.pk)
    events = list(dict.fromkeys(events))
    if not events or any(e not in WebhookEvent.values for e in events):
        raise ServiceError(_("通知する出来事を1つ以上選んでください。"), code="events_invalid", field="events")
    if not url.startswith(("https://", "http://")):
        raise ServiceError(_("送信先URLは http:// か https:// で始めてください。"), code="url_invalid", field="url")
    secret = secrets.token_urlsafe(32)
    hook = Webhook.objects.create(department=department, url=url, secret=secret, events=events,
                                  created_by=Actor.of(actor).account())
    audit.record(actor=actor, action=audit_actions.WEBHOOK_CREATE, obj=hook,
                 changes={"department": department.code, "url": url, "events": events})
    return hook, secret


@transaction.atomic
def hook_disable(*, actor: ActorLike, hook: Webhook) -> Webhook:
    _check_may_manage(actor, hook.department_id)
    hook = Webhook.objects.select_for_update().get(pk=hook.pk)
    if not hook.is_active:  # pressed twice: already stopped, nothing more to record
        return hook
    hook.is_active = False
    hook.save(update_fields=["is_active"])
    audit.record(actor=actor, action=audit_actions.WEBHOOK_DISABLE, obj=hook, changes={"is_active": [True, False]})
    return hook


def case_payload(case: Any, event: str) -> dict[str, Any]:
    """What a subscriber receives: the case's public facts (never a submission)."""
    from hiroba.consultations import queries

    result = queries.published_result(case) if event == WebhookEvent.PUBLISHED else None
    return {"event": event, "occurred_at": timezone.now().isoformat(), "consultation": {
        "id": f"consultations/case/{case.slug}", "slug": case.slug, "title": case.title,
        "department": case.department.code, "period_start": case.period_start.isoformat(),
        "period_end": case.period_end.isoformat(), "url": case.get_absolute_url(),
        "api_url": f"/api/v1/consultations/{case.slug}",
        **({"results_version": result.version, "results_url": f"/api/v1/consultations/{case.slug}/results"}
           if result else {}),
    }}


def notify(case: Any, event: str) -> list[WebhookDelivery]:
    """Queue a delivery to every active hook of the case's department (inside the caller's
    transaction; sent after it commits)."""
    hooks = [h for h in Webhook.objects.filter(department_id=case.department_id, is_active=True) if event in h.events]
    if not hooks:
        return []
    payload = case_payload(case, event)
    deliveries = [WebhookDelivery.objects.create(hook=h, event=event, payload=payload, next_attempt_at=timezone.now())
                  for h in hooks]
    from hiroba.api import tasks

    for d in deliveries:
        transaction.on_commit(partial(tasks.deliver_webhook.enqueue, d.pk))
    return deliveries


def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 (http/https only)  # nosec B310
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def deliver(delivery_id: int) -> WebhookDelivery:
    """One attempt. On failure, the next is scheduled RETRY_DELAY later until MAX_ATTEMPTS."""
    with transaction.atomic():
        d = WebhookDelivery.objects.select_for_update().select_related("hook").get(pk=delivery_id)
        if d.state != WebhookDelivery.State.PENDING:
            return d
        d.attempts += 1
        attempt = d.attempts
        d.save(update_fields=["attempts"])
    body = json.dumps(d.payload, ensure_ascii=False, sort_keys=True).encode("utf-8")
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "hiroba-webhook/1",
               "X-Hiroba-Event": d.event, "X-Hiroba-Delivery": str(d.pk), "X-Hiroba-Attempt": str(attempt),
               "X-Hiroba-Signature": sign(d.hook.secret, body)}
    status, error = None, ""
    try:
        status = _post(d.hook.url, body, headers)
    except Exception as exc:  # noqa: BLE001 (any failure to reach the subscriber is retried)
        error = f"{type(exc).__name__}: {exc}"[:300]
    ok = status is not None and 200 <= status < 300
    d.last_status, d.last_error = status, error or ("" if ok else f"HTTP {status}")
    if ok:
        d.state, d.delivered_at, d.next_attempt_at = WebhookDelivery.State.DELIVERED, timezone.now(), None
    elif attempt >= MAX_ATTEMPTS:
        d.state, d.next_attempt_at = WebhookDelivery.State.FAILED, None
    else:
        d.next_attempt_at = timezone.now() + RETRY_DELAY
    d.save(update_fields=["last_status", "last_error", "state", "delivered_at", "next_attempt_at"])
    if d.state == WebhookDelivery.State.PENDING:
        from hiroba.api import tasks

        tasks.deliver_webhook.using(run_after=d.next_attempt_at).enqueue(d.pk)
    return d


# --- the events, from the case's saves ----------------------------------------------------------

def _remember_state(sender: Any, instance: Any, **kwargs: Any) -> None:
    if instance.pk and not kwargs.get("raw"):
        fields = kwargs.get("update_fields")
        if fields is None or "state" in fields:
            instance._hiroba_state_before = type(instance).objects.filter(pk=instance.pk).values_list(
                "state", flat=True).first()


def _state_changed(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return
    before = None if created else getattr(instance, "_hiroba_state_before", instance.state)
    if before != instance.state and instance.state in STATE_EVENTS:
        notify(instance, STATE_EVENTS[instance.state])
    instance._hiroba_state_before = instance.state


def connect() -> None:
    from django.db.models.signals import post_save, pre_save

    from hiroba.consultations.models import Case

    pre_save.connect(_remember_state, sender=Case, dispatch_uid="hiroba.api.webhooks.pre")
    post_save.connect(_state_changed, sender=Case, dispatch_uid="hiroba.api.webhooks.post")
