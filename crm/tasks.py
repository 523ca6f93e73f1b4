"""Every Celery task of the contact center, for the worker's autodiscovery (``config.celery`` finds ``crm.tasks``).

Each concern keeps its tasks in its own ``tasks`` module; their registered names keep the ``crm.tasks.`` prefix
they had when they all lived here (the beat schedule in ``config.settings.celery`` and parked dead letters name
them), so the names do not follow the modules.
"""

from crm.access.tasks import idempotency_purge_task
from crm.inboxes.tasks import delivery_publish_due_task, delivery_send_task, email_poll_due, orphan_files_sweep_task
from crm.live.tasks import queue_stats_flush_task
from crm.presence.tasks import presence_sweep_task
from crm.privacy.tasks import erasure_due_task, erasure_run_task, export_build_task, retention_run_task
from crm.routing.tasks import offer_timeouts_task, queue_overflow_task, route_pending_task
from crm.sla.tasks import sla_recompute_task, sla_sweep_task
from crm.surveys.tasks import survey_dispatch_task, survey_publish_due_task
from crm.webhooks.tasks import webhook_deliver_task, webhook_publish_due_task
from crm.wellbeing.tasks import break_policy_sweep_task
from crm.widget.tasks import widget_transcript_task

__all__ = [
    "break_policy_sweep_task",
    "email_poll_due",
    "erasure_due_task",
    "erasure_run_task",
    "export_build_task",
    "idempotency_purge_task",
    "delivery_publish_due_task",
    "delivery_send_task",
    "offer_timeouts_task",
    "orphan_files_sweep_task",
    "presence_sweep_task",
    "queue_overflow_task",
    "queue_stats_flush_task",
    "retention_run_task",
    "route_pending_task",
    "sla_recompute_task",
    "sla_sweep_task",
    "survey_dispatch_task",
    "survey_publish_due_task",
    "webhook_deliver_task",
    "webhook_publish_due_task",
    "widget_transcript_task",
]
