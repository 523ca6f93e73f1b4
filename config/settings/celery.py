"""Celery: Redis broker by default, tasks acknowledged late so a worker crash loses nothing."""

import environ
from celery.schedules import crontab

env = environ.Env()

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=env.str("REDIS_URL", default="redis://127.0.0.1:6379/0"))
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True
# No countdown may exceed this (config.tasks checks): long timers belong to the database sweeps. An unacknowledged
# message (its worker died) is delivered again after this many seconds.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
# A message started this many times without finishing (it kills its worker) is parked in the DeadLetter table.
CELERY_MAX_DELIVERIES = env.int("CELERY_MAX_DELIVERIES", default=5)
# Exactly one beat: config.beat.LockedScheduler runs the schedule only while it holds a Redis lock.
CELERY_BEAT_SCHEDULER = "config.beat:LockedScheduler"
CELERY_BEAT_LOCK_TTL = env.int("CELERY_BEAT_LOCK_TTL", default=30)
# The beat wakes at least this often, to renew its lock (well within the TTL) or to try to take it over.
CELERY_BEAT_MAX_LOOP_INTERVAL = 5
_EMAIL_POLL_SECONDS = env.float("SWITCHBOARD_EMAIL_POLL_SECONDS", default=30.0)
CELERY_BEAT_SCHEDULE: dict = {
    # Erasure requests whose grace period is over (and interrupted ones), a few per run: crm.privacy.
    "erasure-due": {"task": "crm.tasks.erasure_due_task", "schedule": 300.0, "options": {"expires": 300}},
    # Retention policies, once a day at SWITCHBOARD_RETENTION_HOUR (UTC): a batch per policy, queued again until
    # nothing older than its policy is left (crm.privacy.services.retention).
    "retention-run": {
        "task": "crm.tasks.retention_run_task",
        "schedule": crontab(minute=17, hour=env.int("SWITCHBOARD_RETENTION_HOUR", default=3)),
        "options": {"expires": 3600},
    },
    # The router's safety net: whatever a trigger missed (a lost publish, a race) is routed within seconds.
    # Expires before the next run, so a backlog of runs never builds up while no worker is listening.
    "route-pending": {"task": "crm.tasks.route_pending_task", "schedule": 5.0, "options": {"expires": 5}},
    # Overflow is a timer kept in the database: the sweep finds what waited long enough, to within 5 s.
    "queue-overflow": {"task": "crm.tasks.queue_overflow_task", "schedule": 5.0, "options": {"expires": 5}},
    # Offers not accepted within their queue's accept timeout go back to the queue, to within 5 s.
    "offer-timeouts": {"task": "crm.tasks.offer_timeouts_task", "schedule": 5.0, "options": {"expires": 5}},
    # Presence: agents whose console has been gone for the grace period go offline, to within 5 s.
    "presence-sweep": {"task": "crm.tasks.presence_sweep_task", "schedule": 5.0, "options": {"expires": 5}},
    # Queue figures a web process marked but did not publish (it stopped in between): crm.live.queue_stats.
    "queue-stats-flush": {"task": "crm.tasks.queue_stats_flush_task", "schedule": 5.0, "options": {"expires": 5}},
    # Well-being breaks: who is due one, from the status log and interaction outcomes (once per run, unique).
    "break-policy": {"task": "crm.tasks.break_policy_sweep_task", "schedule": 60.0, "options": {"expires": 60}},
    # Training: reminders before expiry, and marking lapsed passes expired (both idempotent).
    "training-reminders": {
        "task": "agents.tasks.training_reminders_task",
        "schedule": 3600.0,
        "options": {"expires": 3600},
    },
    "training-expiry": {"task": "agents.tasks.training_expiry_task", "schedule": 300.0, "options": {"expires": 300}},
    # Scheduled breaks start at their time, to within 30 s.
    "breaks-scheduled": {
        "task": "agents.tasks.break_start_scheduled_task",
        "schedule": 30.0,
        "options": {"expires": 30},
    },
    # SLA timers live in the database (sla_next_check_at): the sweep records what fell due, to within 5 s.
    "sla-sweep": {"task": "crm.tasks.sla_sweep_task", "schedule": 5.0, "options": {"expires": 5}},
    # Reports read whole past hours from the KPI rollup; this keeps it at most a minute behind.
    "kpi-rollup": {"task": "reporting.tasks.kpi_rollup_refresh_task", "schedule": 60.0, "options": {"expires": 60}},
    # The outboxes' publishers: what an on-commit publish lost (a crash, a broker outage) and what is due again.
    "webhooks-publish": {"task": "crm.tasks.webhook_publish_due_task", "schedule": 3.0, "options": {"expires": 3}},
    "surveys-publish": {"task": "crm.tasks.survey_publish_due_task", "schedule": 5.0, "options": {"expires": 5}},
    # IMAP mailboxes of the e-mail inboxes: what arrived since the last UID imported (a mailbox being polled by
    # another worker is skipped: its cursor row is locked).
    "email-poll": {
        "task": "crm.inboxes.tasks.email_poll_due",
        "schedule": _EMAIL_POLL_SECONDS,
        "options": {"expires": _EMAIL_POLL_SECONDS},
    },
    # Queued e-mail imports (inbox setting "import": "queued") waiting with no drainer at work: a drain lost on the
    # way or a worker killed mid-batch (crm.inboxes.services.queued).
    "email-queued-sweep": {
        "task": "crm.inboxes.tasks.email_queued_sweep",
        "schedule": 5.0,
        "options": {"expires": 5},
    },
    # Idempotency-Key records are kept SWITCHBOARD_IDEMPOTENCY_TTL_HOURS; older ones are deleted hourly.
    "idempotency-purge": {
        "task": "crm.tasks.idempotency_purge_task",
        "schedule": 3600.0,
        "options": {"expires": 3600},
    },
    "deliveries-publish": {
        "task": "crm.tasks.delivery_publish_due_task",
        "schedule": 5.0,
        "options": {"expires": 5},
    },
    # Stored files no message names (an import rolled back, an upload refused), past their grace period.
    "orphan-files": {"task": "crm.tasks.orphan_files_sweep_task", "schedule": 3600.0, "options": {"expires": 3600}},
}
# Workers and beat keep Django's LOGGING (LOG_FORMAT=json included) instead of Celery's own root handler.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Celery's Django fixup closes a prefork child's database connections before and after every task and, with a
# connection pool, closes the pool itself: every task then opened new PostgreSQL connections (a backend started
# for each), and a thread of the child still reading (the live queue figures' timer) found its pool closed under
# it. With this the fixup leaves connections alone between tasks (it still closes them when a child starts);
# config.celery hands each task's connection back to the pool after it, as a request's is (close_old_connections).
CELERY_DB_REUSE_MAX = 1_000_000_000
