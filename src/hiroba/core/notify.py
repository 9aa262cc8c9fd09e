"""One way to send an e-mail: `send(template=…, to=…, context=…)`, delivered by the worker.

The message is rendered now, in the recipient's language, from ``<template>.txt`` (first line
the subject, the rest the body; an optional ``<template>.html`` becomes the HTML part) and stored
as a `Notification` inside the caller's transaction. Its delivery is queued with django-tasks
when that transaction commits, so

- a write that rolls back sends nothing, and a committed one is never left unsent: the worker
  retries failures with backoff (`RETRY_DELAYS`), and `deliver_due` (``hiroba notifications
  deliver``, run every minute by the requeue timer) picks up anything a dead worker left behind,
  including a message it had claimed (送信中) and not finished: claimed longer ago than
  ``HIROBA_NOTIFY_CLAIM_TIMEOUT`` (10 minutes), it is claimed again and sent (at least once: a
  worker that was only slow, not dead, may send it a second time — docs/decisions/0016);
- a request never waits for the mail server, and a mail server that is down never turns a
  committed write into an error page;
- every recipient gets a message of their own (no address is shown to another), and what was
  sent is kept as sent (subject, body, time), with a Message-ID that is stable across retries.

Templates receive the ``context`` plus ``municipality`` and ``site_name``; pass plain values or
model instances (they are rendered now, inside the transaction — never queued).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.db import connection, models, transaction
from django.db.models import F, Q
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django_tasks import task

from hiroba.core import bulk
from hiroba.core.models import Notification

log = logging.getLogger(__name__)

#: Wait before each retry after a failed attempt (the first try is attempt 1).
RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2))
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
#: last_error of a message whose last allowed attempt was cut short by a dead worker.
DIED_WHILE_SENDING = "worker stopped while sending (the message may or may not have left)"
#: Messages per queued task when one mail goes to many recipients.
TASK_SIZE = 100


def render(template: str, context: Mapping[str, Any], language: str) -> tuple[str, str, str]:
    """(subject, text body, html body or "") of a template in a language."""
    full = {"municipality": settings.HIROBA_MUNICIPALITY, "site_name": settings.HIROBA_SITE_NAME, **context}
    with translation.override(language):
        text = render_to_string(f"{template}.txt", full).strip()
        try:
            html = render_to_string(f"{template}.html", full).strip()
        except TemplateDoesNotExist:
            html = ""
    subject, _, body = text.partition("\n")
    subject = " ".join(subject.split())
    if not subject or not body.strip():
        raise ValueError(f"mail template {template}.txt must start with a subject line and have a body")
    return subject[:300], body.strip() + "\n", html


def send(
    *,
    template: str,
    to: str | Iterable[str],
    context: Mapping[str, Any],
    language: str | None = None,
    about: models.Model | None = None,
) -> list[Notification]:
    """Render and store one message per distinct recipient; deliver each after commit.

    Empty addresses are skipped (a resident who left the e-mail field empty gets no mail).
    """
    recipients = [to] if isinstance(to, str) else list(to)
    recipients = [r.strip() for r in dict.fromkeys(recipients) if r and r.strip()]
    if not recipients:
        return []
    language = language or settings.LANGUAGE_CODE.split("-")[0]
    subject, body, html = render(template, context, language)
    return _store(template=template, recipients=recipients, language=language, subject=subject, body=body,
                  html=html, about=about)


def send_rendered(message: EmailMessage, *, template: str, language: str | None = None) -> list[Notification]:
    """Store and deliver a message a library rendered itself (allauth's sign-up confirmation and
    password reset): the same outbox, retries and proof as `send`, one row per recipient."""
    html = next((str(content) for content, mimetype in getattr(message, "alternatives", []) if mimetype == "text/html"),
                "")
    language = language or translation.get_language() or settings.LANGUAGE_CODE
    return _store(template=template, recipients=list(message.to), language=language.split("-")[0],
                  subject=" ".join(str(message.subject).split())[:300], body=str(message.body), html=html, about=None)


#: The outbox columns `_store` writes (the others start empty: NULL), in the order of its rows.
STORED = ("template", "recipient", "language", "subject", "body", "html_body", "state", "attempts", "last_error",
          "object_type", "object_id", "created_at")


def _store(
    *, template: str, recipients: list[str], language: str, subject: str, body: str, html: str,
    about: models.Model | None,
) -> list[Notification]:
    """One outbox row per distinct address, stored with multi-row ``INSERT … RETURNING`` (a mail
    to many is a notices batch: thousands of rows, no model instance built to insert them), and
    their delivery queued on commit. Returns the stored rows in the order of `recipients`."""
    recipients = list(dict.fromkeys(r.strip() for r in recipients if r and r.strip()))
    now = timezone.now()
    common = {"template": template, "language": language, "subject": subject, "body": body, "html_body": html,
              "state": Notification.State.QUEUED.value, "attempts": 0, "last_error": "",
              "object_type": about._meta.label_lower if about is not None else "",
              "object_id": str(about.pk) if about is not None else ""}
    with transaction.atomic():
        if connection.features.can_return_rows_from_bulk_insert:  # PostgreSQL, SQLite ≥ 3.35
            stored = {**common, "created_at": bulk.db_value(Notification, "created_at", now)}
            # RETURNING's order is not promised (SQLite): the address, distinct here, tells the rows apart
            pk_of = {address: pk for pk, address in bulk.insert_rows(
                Notification, STORED, [[address if f == "recipient" else stored[f] for f in STORED]
                                       for address in recipients], size=500, returning=("pk", "recipient"))}
            names = [f.attname for f in Notification._meta.concrete_fields]
            fresh = {**dict.fromkeys(names), **common, "created_at": now}
            rows = [Notification.from_db(connection.alias, names, [
                pk_of[address] if n == "id" else address if n == "recipient" else fresh[n] for n in names])
                for address in recipients]
        else:  # ids are needed for the queue
            rows = [Notification(recipient=address, created_at=now, **common) for address in recipients]
            for row in rows:
                row.save(force_insert=True)
        ids = [row.pk for row in rows]
        transaction.on_commit(lambda: _enqueue(ids))
    return rows


def _enqueue(ids: list[int], run_after: datetime | None = None) -> None:
    """Queue the delivery of stored messages: a lone message (or a retry) as its own task, a mail
    to many (a notices batch: thousands) as one task per `TASK_SIZE` messages, so queueing costs
    one row per hundred messages, not one per message."""
    if len(ids) == 1 or run_after is not None:
        for pk in ids:
            try:
                (deliver.using(run_after=run_after) if run_after else deliver).enqueue(pk)
            except Exception:  # the queue itself is down: deliver_due will find the row
                log.exception("could not queue notification %s", pk)
        return
    for start in range(0, len(ids), TASK_SIZE):
        part = ids[start:start + TASK_SIZE]
        try:
            deliver_many.enqueue(part)
        except Exception:
            log.exception("could not queue notifications %s…%s", part[0], part[-1])


def claim_timeout() -> timedelta:
    """How long a claim (送信中) holds before the message counts as left by a dead worker."""
    timeout: timedelta = settings.HIROBA_NOTIFY_CLAIM_TIMEOUT
    return timeout


def _claimable(now: datetime) -> Q:
    """Rows a worker may claim now: waiting ones, and those a worker claimed longer ago than
    `claim_timeout` and never finished (unless that was their last allowed attempt)."""
    return (Q(state__in=[Notification.State.QUEUED, Notification.State.RETRY])
            | Q(state=Notification.State.SENDING, claimed_at__lt=now - claim_timeout(), attempts__lt=MAX_ATTEMPTS))


@task()
def deliver(notification_id: int) -> None:
    """Send one stored message (claimed with a conditional UPDATE, so two workers never both
    send it); on failure schedule the next attempt or mark it failed."""
    _deliver(notification_id, now=timezone.now())


def _deliver(notification_id: int, *, now: datetime) -> bool:
    """`deliver` at time `now`; False when the message was not claimable (sent, or another
    worker's claim still holds)."""
    claimed = Notification.objects.filter(_claimable(now), pk=notification_id).update(
        state=Notification.State.SENDING, attempts=F("attempts") + 1, claimed_at=now)
    if not claimed:
        return False
    note = Notification.objects.get(pk=notification_id)
    message = EmailMultiAlternatives(
        subject=note.subject, body=note.body, to=[note.recipient],
        headers={"Message-ID": note.message_id, "Auto-Submitted": "auto-generated"},
    )
    if note.html_body:
        message.attach_alternative(note.html_body, "text/html")
    try:
        message.send(fail_silently=False)
    except Exception as exc:  # SMTP refusals, timeouts, DNS: all retried the same way
        _failed(note, exc)
        return True
    # unconditional: even when a slow send outlived its claim and another worker took it over, it was sent
    Notification.objects.filter(pk=note.pk).update(state=Notification.State.SENT, sent_at=timezone.now(),
                                                   last_error="")
    return True


@task()
def deliver_many(notification_ids: list[int]) -> None:
    """`deliver` each message in turn. Each is claimed on its own, so a message another worker
    (or `deliver_due`) already took is skipped, and a worker dying half-way leaves the rest
    queued for `deliver_due`."""
    for pk in notification_ids:
        deliver.call(pk)


def _failed(note: Notification, exc: Exception) -> None:
    error = f"{type(exc).__name__}: {exc}"[:500]
    # only while this claim still holds: a send that outlived its claim must not undo the new claim's outcome
    mine = Notification.objects.filter(pk=note.pk, state=Notification.State.SENDING, claimed_at=note.claimed_at)
    if note.attempts >= MAX_ATTEMPTS:
        mine.update(state=Notification.State.FAILED, last_error=error)
        log.error("notification %s failed for good after %s attempts: %s", note.pk, note.attempts, error)
        return
    when = timezone.now() + RETRY_DELAYS[note.attempts - 1]
    if not mine.update(state=Notification.State.RETRY, next_attempt_at=when, last_error=error):
        return
    log.warning("notification %s attempt %s failed, retry at %s: %s", note.pk, note.attempts, when, error)
    _enqueue([note.pk], run_after=when)


def deliver_due(*, now: datetime | None = None) -> int:
    """Send what is due now and was not (a worker died, or the queue was down): queued rows
    older than a minute, retries whose time has come, and rows a worker claimed (送信中) longer
    ago than `claim_timeout` without finishing — each claimed again, so sent once more at most
    per dead worker; one whose last allowed attempt died is marked 送信失敗 instead. Returns how
    many were attempted."""
    now = now or timezone.now()
    stale = Q(state=Notification.State.SENDING, claimed_at__lt=now - claim_timeout())
    Notification.objects.filter(stale, attempts__gte=MAX_ATTEMPTS).update(state=Notification.State.FAILED,
                                                                           last_error=DIED_WHILE_SENDING)
    due = list(
        Notification.objects.filter(
            Q(state=Notification.State.QUEUED, created_at__lte=now - timedelta(minutes=1))
            | Q(state=Notification.State.RETRY, next_attempt_at__lte=now)
            | stale
        ).order_by("id").values_list("pk", flat=True)[:1000]
    )
    return sum(_deliver(pk, now=now) for pk in due)
