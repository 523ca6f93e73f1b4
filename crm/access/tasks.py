"""Celery tasks of the access concern: thin, each calls one service."""

from celery import shared_task

from .services.idempotency import idempotency_purge_expired


@shared_task(name="crm.tasks.idempotency_purge_task", ignore_result=True)
def idempotency_purge_task() -> int:
    """Delete Idempotency-Key records past SWITCHBOARD_IDEMPOTENCY_TTL_HOURS (idempotent: a rerun finds none)."""
    return idempotency_purge_expired()
