"""Celery tasks of the contact center: thin, each calls one service."""

from celery import shared_task

from .services.overflow import queue_overflow_due
from .services.routing import route_pending
from .services.surveys import survey_dispatch, survey_publish_due
from .services.webhooks import webhook_deliver, webhook_publish_due

ROUTE_BATCH = 100


@shared_task(name="crm.tasks.route_pending_task", ignore_result=True, dead_letter_on_failure=False)
def route_pending_task() -> int:
    """Route waiting work. Idempotent, so duplicate triggers and the 5-second beat entry are harmless.

    A full batch means more may be routable: the task queues itself again rather than holding a worker.
    """
    routed = route_pending(limit=ROUTE_BATCH)
    if routed >= ROUTE_BATCH:
        route_pending_task.apply_async(expires=60)
    return routed


@shared_task(name="crm.tasks.queue_overflow_task", ignore_result=True, dead_letter_on_failure=False)
def queue_overflow_task() -> int:
    """Move work whose queue's overflow time has passed (the service then asks for a routing run)."""
    return queue_overflow_due()


@shared_task(name="crm.tasks.webhook_deliver_task", ignore_result=True)
def webhook_deliver_task(delivery_id: int) -> str | None:
    """POST one webhook delivery. Idempotent: the delivery row (unique per subscription and event) is locked and
    only a pending, due one is sent; its retries are timed by the row and published by the sweep."""
    return webhook_deliver(delivery_id=delivery_id)


@shared_task(name="crm.tasks.webhook_publish_due_task", ignore_result=True, dead_letter_on_failure=False)
def webhook_publish_due_task() -> int:
    """The webhook outbox's publisher: pending deliveries that are due and not in flight."""
    return webhook_publish_due()


@shared_task(name="crm.tasks.survey_dispatch_task", ignore_result=True)
def survey_dispatch_task(survey_id: int) -> str | None:
    """Send one survey. Idempotent: the survey row (unique per interaction and kind) is locked and sent only while
    pending, so redelivered or duplicate messages change nothing."""
    return survey_dispatch(survey_id=survey_id)


@shared_task(name="crm.tasks.survey_publish_due_task", ignore_result=True, dead_letter_on_failure=False)
def survey_publish_due_task() -> int:
    """The survey outbox's publisher: pending surveys that are due and not in flight."""
    return survey_publish_due()
