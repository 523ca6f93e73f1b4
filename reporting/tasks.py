"""Celery tasks of reporting: thin, they call a service."""

from celery import shared_task

from .rollups import kpi_rollup_refresh


@shared_task(name="reporting.tasks.kpi_rollup_refresh_task", ignore_result=True, dead_letter_on_failure=False)
def kpi_rollup_refresh_task() -> int:
    """Beat runs this every minute: the hourly KPI rollup catches up with what changed."""
    return kpi_rollup_refresh()
