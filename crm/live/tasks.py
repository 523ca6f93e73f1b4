"""Celery task of the live events: thin, calls one service (its name keeps the ``crm.tasks.`` prefix)."""

from celery import shared_task

from .queue_stats import queue_stats_flush


@shared_task(name="crm.tasks.queue_stats_flush_task", ignore_result=True, dead_letter_on_failure=False)
def queue_stats_flush_task() -> int:
    """Publish queue figures still marked (the web process that should have stopped first). Idempotent."""
    return queue_stats_flush()
