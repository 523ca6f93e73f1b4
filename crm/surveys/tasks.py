"""Celery tasks of surveys: thin, each calls one service (names keep their ``crm.tasks.`` prefix)."""

from celery import shared_task

from .services import survey_dispatch, survey_publish_due


@shared_task(name="crm.tasks.survey_dispatch_task", ignore_result=True)
def survey_dispatch_task(survey_id: int) -> str | None:
    """Send one survey. Idempotent: the survey row (unique per interaction and kind) is locked and sent only while
    pending, so redelivered or duplicate messages change nothing."""
    return survey_dispatch(survey_id=survey_id)


@shared_task(name="crm.tasks.survey_publish_due_task", ignore_result=True, dead_letter_on_failure=False)
def survey_publish_due_task() -> int:
    """The survey outbox's publisher: pending surveys that are due and not in flight."""
    return survey_publish_due()
