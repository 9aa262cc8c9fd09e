"""Background work of the API: webhook deliveries (retried 5 minutes apart, 5 tries)."""

from __future__ import annotations

from django_tasks import task


@task()
def deliver_webhook(delivery_id: int) -> None:
    from hiroba.api import webhooks

    webhooks.deliver(delivery_id)
