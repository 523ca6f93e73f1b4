"""Celery tasks of the SLA concern: thin, each calls one service (names keep their ``crm.tasks.`` prefix)."""

from celery import shared_task

from .services.engine import sla_recompute_open
from .services.sweep import sla_sweep

SLA_SWEEP_BATCH = 500


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
