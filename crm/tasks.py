"""Celery tasks of the contact center: thin, each calls one service."""

from celery import shared_task

from .services.offers import offer_timeouts_expire
from .services.overflow import queue_overflow_due
from .services.routing import route_pending
from .services.sla import sla_recompute_open, sla_sweep
from .services.surveys import survey_dispatch, survey_publish_due
from .services.webhooks import webhook_deliver, webhook_publish_due

ROUTE_BATCH = 100
SLA_SWEEP_BATCH = 500


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


@shared_task(name="crm.tasks.offer_timeouts_task", ignore_result=True, dead_letter_on_failure=False)
def offer_timeouts_task() -> int:
    """Send offers nobody accepted in time back to their queues (the service then asks for a routing run)."""
    return offer_timeouts_expire()


@shared_task(name="crm.tasks.break_policy_sweep_task", ignore_result=True, dead_letter_on_failure=False)
def break_policy_sweep_task() -> int:
    """Evaluate the teams' well-being break policies; here in crm because the streak rule reads outcomes."""
    from agents.breaks import break_due_sweep

    from .services.breaks import bad_outcome_streaks

    return len(break_due_sweep(bad_streaks=bad_outcome_streaks))


@shared_task(name="crm.tasks.sla_sweep_task", ignore_result=True, dead_letter_on_failure=False)
def sla_sweep_task() -> int:
    """Record and act on the SLA steps that fell due. A full batch means more are due: run again at once."""
    recorded = sla_sweep(limit=SLA_SWEEP_BATCH)
    if recorded >= SLA_SWEEP_BATCH:
        sla_sweep_task.apply_async(expires=60)
    return recorded


@shared_task(name="crm.tasks.sla_recompute_task", ignore_result=True)
def sla_recompute_task(*, policy_ids=(), calendar_ids=(), queue_ids=()) -> int:
    """Recompute the due times of open interactions after a policy, calendar or queue change (in batches)."""
    return sla_recompute_open(policy_ids=policy_ids, calendar_ids=calendar_ids, queue_ids=queue_ids)


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
