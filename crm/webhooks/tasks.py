"""Celery tasks of webhooks: thin, each calls one service (names keep their ``crm.tasks.`` prefix)."""

from celery import shared_task

from .services import webhook_deliver, webhook_publish_due


@shared_task(name="crm.tasks.webhook_deliver_task", ignore_result=True)
def webhook_deliver_task(delivery_id: int) -> str | None:
    """POST one webhook delivery. Idempotent: the delivery row (unique per subscription and event) is locked and
    only a pending, due one is sent; its retries are timed by the row and published by the sweep."""
    return webhook_deliver(delivery_id=delivery_id)


@shared_task(name="crm.tasks.webhook_publish_due_task", ignore_result=True, dead_letter_on_failure=False)
def webhook_publish_due_task() -> int:
    """The webhook outbox's publisher: pending deliveries that are due and not in flight."""
    return webhook_publish_due()
