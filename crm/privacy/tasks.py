"""Celery tasks of data protection: thin, each calls one service (names keep the ``crm.tasks.`` prefix)."""

from celery import shared_task

from config.tasks import task_named

from .services.erase import erasure_due, erasure_run
from .services.export import export_build
from .services.retention import RETENTION_RUN_TASK, retention_run


@shared_task(name="crm.tasks.export_build_task", ignore_result=True)
def export_build_task(export_id: int) -> str:
    """Build one export archive; a redelivered message finds it done and does nothing."""
    return export_build(export_id=export_id)


@shared_task(name="crm.tasks.erasure_run_task", ignore_result=True)
def erasure_run_task(erasure_id: int) -> str:
    """Erase one customer; resumes at the first step not recorded, so a killed worker's redelivery finishes it."""
    return erasure_run(erasure_id=erasure_id)


@shared_task(name="crm.tasks.erasure_due_task", ignore_result=True, dead_letter_on_failure=False)
def erasure_due_task() -> int:
    """The beat's sweep of erasure requests whose grace period is over (and of interrupted ones)."""
    return erasure_due()


@shared_task(name=RETENTION_RUN_TASK, ignore_result=True, dead_letter_on_failure=False)
def retention_run_task() -> int:
    """The beat's daily retention run: one batch of every policy, then again (queued anew) until nothing is left."""
    result = retention_run()
    if result["more"]:
        task_named(RETENTION_RUN_TASK).delay()
    return result["removed"]
