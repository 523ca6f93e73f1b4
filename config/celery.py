"""The Celery application; settings come from Django settings (CELERY_* names)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

# ReliableTask: redelivery count with a dead-letter table, bounded countdowns, delay_on_commit.
app = Celery("switchboard", task_cls="config.tasks:ReliableTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

import config.logs  # noqa: E402,F401 — connects the signals that carry a request id into tasks
import config.metrics  # noqa: E402,F401 — connects the signals that time tasks and count their failures
