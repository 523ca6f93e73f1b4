"""Splitting crm.tasks per concern kept every task's registered name: the beat schedule, parked dead letters and
the services that queue tasks by name all still find them."""

from django.conf import settings

from config.celery import app
from config.tasks import task_named
from crm.inboxes.services.delivery import DELIVERY_SEND_TASK
from crm.inboxes.services.queued import DRAIN_TASK
from crm.routing.services.triggers import ROUTE_PENDING_TASK
from crm.sla.services.engine import SLA_RECOMPUTE_TASK
from crm.surveys.services import SURVEY_DISPATCH_TASK
from crm.webhooks.services import WEBHOOK_DELIVER_TASK

CRM_TASKS = {
    "crm.tasks.widget_transcript_task",
    "crm.inboxes.tasks.email_poll_due",
    "crm.inboxes.tasks.email_drain",
    "crm.inboxes.tasks.email_queued_sweep",
    "crm.tasks.break_policy_sweep_task",
    "crm.tasks.delivery_publish_due_task",
    "crm.tasks.delivery_send_task",
    "crm.tasks.erasure_due_task",
    "crm.tasks.erasure_run_task",
    "crm.tasks.export_build_task",
    "crm.tasks.idempotency_purge_task",
    "crm.tasks.offer_timeouts_task",
    "crm.tasks.orphan_files_sweep_task",
    "crm.tasks.presence_sweep_task",
    "crm.tasks.queue_overflow_task",
    "crm.tasks.queue_stats_flush_task",
    "crm.tasks.retention_run_task",
    "crm.tasks.route_pending_task",
    "crm.tasks.sla_recompute_task",
    "crm.tasks.sla_sweep_task",
    "crm.tasks.survey_dispatch_task",
    "crm.tasks.survey_publish_due_task",
    "crm.tasks.webhook_deliver_task",
    "crm.tasks.webhook_publish_due_task",
}


def test_every_crm_task_keeps_its_name():
    assert {name for name in app.tasks if name.startswith("crm.")} == CRM_TASKS


def test_every_crm_beat_entry_names_a_registered_task():
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values() if entry["task"].startswith("crm.")}
    assert len(scheduled) >= 7
    assert scheduled <= set(app.tasks)


def test_the_tasks_services_queue_by_name_are_the_concerns_tasks():
    for name, module in (
        (ROUTE_PENDING_TASK, "crm.routing.tasks"),
        (SLA_RECOMPUTE_TASK, "crm.sla.tasks"),
        (SURVEY_DISPATCH_TASK, "crm.surveys.tasks"),
        (WEBHOOK_DELIVER_TASK, "crm.webhooks.tasks"),
        (DELIVERY_SEND_TASK, "crm.inboxes.tasks"),
        (DRAIN_TASK, "crm.inboxes.tasks"),
    ):
        assert task_named(name).name == name
        assert task_named(name).__module__ == module
