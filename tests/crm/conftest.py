"""Fixtures shared by the crm tests."""

import pytest

from config.celery import app as celery_app


@pytest.fixture
def eager_tasks():
    """Celery runs tasks in-process: the trigger path (signal → on-commit → task → service) is exercised whole."""
    previous = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = previous
