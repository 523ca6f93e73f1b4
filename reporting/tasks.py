"""Celery tasks of reporting: thin, they call a service."""

from celery import shared_task

from .rollups import kpi_rollup_refresh
from .rollups_people import kpi_people_refresh


@shared_task(name="reporting.tasks.kpi_rollup_refresh_task", ignore_result=True, dead_letter_on_failure=False)
def kpi_rollup_refresh_task() -> int:
    """Beat runs this every minute: the hourly KPI rollup and its per-agent sibling catch up with what changed
    (each in its own transaction, under its own watermark)."""
    return kpi_rollup_refresh() + kpi_people_refresh()
