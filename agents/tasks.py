"""Celery tasks of the agents app: thin, each calls one service."""

from celery import shared_task

from .breaks import break_start_scheduled
from .training import training_expire_due, training_remind_due


@shared_task(name="agents.tasks.training_reminders_task", ignore_result=True, dead_letter_on_failure=False)
def training_reminders_task() -> int:
    """Remind agents and supervisors of passes about to expire (each reminder once)."""
    return training_remind_due()


@shared_task(name="agents.tasks.training_expiry_task", ignore_result=True, dead_letter_on_failure=False)
def training_expiry_task() -> int:
    """Mark lapsed passes expired and log them; routing already stopped counting them at expiry."""
    return training_expire_due()


@shared_task(name="agents.tasks.break_start_scheduled_task", ignore_result=True, dead_letter_on_failure=False)
def break_start_scheduled_task() -> int:
    """Start the scheduled breaks whose time has come (a break held back by the team's cap waits for the next run)."""
    return break_start_scheduled()
