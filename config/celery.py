"""The Celery application; settings come from Django settings (CELERY_* names)."""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun, worker_init, worker_process_init
from django.db import close_old_connections

from config.heap import freeze_loaded_project

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

# ReliableTask: redelivery count with a dead-letter table, bounded countdowns, delay_on_commit.
app = Celery("switchboard", task_cls="config.tasks:ReliableTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _eager_setting_at_hand(sender: Celery, **kwargs) -> None:
    """``task_always_eager`` copied into the app's own changes once its settings are read: every request that asks
    for a coalesced run reads it (``config.coalesced``), and a lookup that falls through to Django's settings costs
    about 14 µs where one found here costs 2. Changing it later (``app.conf.task_always_eager = …``, as tests do)
    works as before: it lands in the same place."""
    sender.conf.task_always_eager = sender.conf.task_always_eager


import config.logs  # noqa: E402,F401 — connects the signals that carry a request id into tasks
import config.metrics  # noqa: E402,F401 — connects the signals that time tasks and count their failures


@worker_init.connect
@worker_process_init.connect
def _freeze_loaded_project(**kwargs) -> None:
    """The worker's loaded project out of the collector's full passes: once in the main process (a prefork pool's
    children inherit it) and once in each child for what it loaded itself (``config.heap``)."""
    freeze_loaded_project()


@task_prerun.connect(dispatch_uid="switchboard.celery.connections_prerun")
@task_postrun.connect(dispatch_uid="switchboard.celery.connections_postrun")
def _connections_back_to_the_pool(task=None, **kwargs) -> None:
    """Before and after each task, what Django does around a request: a connection that is broken, or past its age
    (with the pool, every one: it goes back to the pool), is closed. Not for a task run eagerly inside a caller's
    transaction (the tests'). The pool itself stays: ``CELERY_DB_REUSE_MAX`` keeps Celery's fixup from closing it
    after every task (``config.settings.celery``)."""
    if task is not None and getattr(task.request, "is_eager", False):
        return
    close_old_connections()
