"""Celery task of the well-being break policy (its name keeps the ``crm.tasks.`` prefix)."""

from celery import shared_task

from agents.break_policy import break_due_sweep

from .services import bad_outcome_streaks


@shared_task(name="crm.tasks.break_policy_sweep_task", ignore_result=True, dead_letter_on_failure=False)
def break_policy_sweep_task() -> int:
    """Evaluate the teams' well-being break policies; here in crm because the streak rule reads outcomes."""
    return len(break_due_sweep(bad_streaks=bad_outcome_streaks))
