"""Celery task of presence: thin, calls the sweep (its name keeps the ``crm.tasks.`` prefix of the others)."""

from celery import shared_task

from .services import presence_sweep


@shared_task(name="crm.tasks.presence_sweep_task", ignore_result=True, dead_letter_on_failure=False)
def presence_sweep_task() -> int:
    """Take agents whose console has been gone for the grace period offline (idempotent, safe to overlap)."""
    return presence_sweep()
