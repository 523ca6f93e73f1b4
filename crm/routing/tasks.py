"""Celery tasks of routing: thin, each calls one service. Names keep the ``crm.tasks.`` prefix they were
registered under (the beat schedule and parked dead letters name them)."""

from celery import shared_task

from .services.offers import offer_timeouts_expire
from .services.overflow import queue_overflow_due
from .services.router import route_pending
from .services.triggers import routing_run_starting

ROUTE_BATCH = 100


@shared_task(name="crm.tasks.route_pending_task", ignore_result=True, dead_letter_on_failure=False)
def route_pending_task() -> int:
    """Route waiting work. Idempotent, so duplicate triggers and the 5-second beat entry are harmless.

    A full batch means more may be routable: the task queues itself again rather than holding a worker.
    """
    routing_run_starting()  # before reading: a change committed from now on asks for a run of its own
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
