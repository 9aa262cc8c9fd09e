"""Background work shared by every app: mail rendered during a request, sent by the worker.

A request that sends mail (allauth's sign-up confirmation, password reset) renders the message
while it has the request, then queues it with `send_after_commit`: nothing is sent for a
transaction that rolls back, and a mail server that is down or slow never turns the page into
an error — the worker (`hiroba db_worker`) sends it when it can.
"""

from __future__ import annotations

from typing import Any

from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.db import transaction
from django_tasks import task


def _payload(message: EmailMessage) -> dict[str, Any]:
    return {
        "subject": str(message.subject), "body": str(message.body), "from_email": message.from_email,
        "to": list(message.to), "cc": list(message.cc), "bcc": list(message.bcc),
        "reply_to": list(message.reply_to), "headers": dict(message.extra_headers),
        "content_subtype": message.content_subtype,
        "alternatives": [[str(content), mimetype] for content, mimetype in getattr(message, "alternatives", [])],
    }


@task()
def send_message(message: dict[str, Any]) -> None:
    """Send one message rendered earlier (see `send_after_commit`)."""
    mail = EmailMultiAlternatives(
        subject=message["subject"], body=message["body"], from_email=message["from_email"], to=message["to"],
        cc=message["cc"], bcc=message["bcc"], reply_to=message["reply_to"], headers=message["headers"],
    )
    mail.content_subtype = message["content_subtype"]
    for content, mimetype in message["alternatives"]:
        mail.attach_alternative(content, mimetype)
    mail.send()


def send_after_commit(message: EmailMessage) -> None:
    """Queue `message` for the worker once the current transaction commits (at once outside one)."""
    payload = _payload(message)
    transaction.on_commit(lambda: send_message.enqueue(payload))
