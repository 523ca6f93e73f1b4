"""What every Switchboard task shares: a redelivery count with a dead-letter table, and bounded countdowns.

Tasks are acknowledged late and rejected back to the broker when their worker dies, so a crash loses
nothing. The price is the poison message: one that kills its worker every time would come back forever.
``ReliableTask`` counts the starts of each message in Redis (keyed by task id and retry number); past
``CELERY_MAX_DELIVERIES`` the message is parked in ``crm.DeadLetter`` and acknowledged. A task that fails
for good (an exception it does not retry) is parked there too, so an admin sees it and can queue it again.
"""

import logging
from datetime import datetime
from functools import cache

import redis
from celery import Task
from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

DELIVERY_KEY = "switchboard:celery:deliveries:{task_id}:{retries}"


@cache
def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


def visibility_timeout() -> int:
    return int(settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", 3600))


def check_countdown(seconds: float) -> None:
    """Refuse a countdown the broker cannot keep: past the visibility timeout Redis delivers the message again.

    Longer timers belong to a database sweep (a due-time column and a beat task), which survives anything.
    """
    if seconds > visibility_timeout():
        raise ValueError(
            f"A countdown of {seconds:.0f} s exceeds the broker visibility timeout ({visibility_timeout()} s); "
            "keep the due time in the database and let a beat sweep pick it up."
        )


def dead_letter_park(*, task_id: str, task_name: str, args, kwargs, exception: str, delivery_count: int) -> None:
    """Record a message that will not be processed; a second park of the same message changes nothing."""
    DeadLetter = apps.get_model("crm", "DeadLetter")
    DeadLetter.objects.bulk_create(
        [
            DeadLetter(
                task_id=task_id,
                task_name=task_name,
                args=list(args or []),
                kwargs=dict(kwargs or {}),
                exception=exception[:10000],
                delivery_count=delivery_count,
            )
        ],
        ignore_conflicts=True,
    )


class ReliableTask(Task):
    """Base of the project's tasks (``config.celery`` sets it as the app's default task class).

    Periodic sweeps set ``dead_letter_on_failure=False``: their next run replaces a failed one, and a database
    outage would otherwise park one row per run.
    """

    dead_letter_on_failure = True

    def apply_async(self, args=None, kwargs=None, task_id=None, producer=None, link=None, link_error=None, **options):
        countdown, eta = options.get("countdown"), options.get("eta")
        if countdown:
            check_countdown(float(countdown))
        if isinstance(eta, datetime):
            check_countdown((eta - timezone.now()).total_seconds())
        return super().apply_async(args, kwargs, task_id, producer, link, link_error, **options)

    def delay_on_commit(self, *args, **kwargs) -> None:
        """Send the task once the current transaction commits (never for a change that rolled back)."""
        transaction.on_commit(lambda: self.apply_async(args, kwargs))

    def _delivery_key(self) -> str:
        return DELIVERY_KEY.format(task_id=self.request.id, retries=self.request.retries or 0)

    def __call__(self, *args, **kwargs):
        if self.request.id is None or self.request.called_directly:
            return self.run(*args, **kwargs)
        key = self._delivery_key()
        try:
            client = _redis()
            count = client.incr(key)
            # long enough to outlive every redelivery of the message
            client.expire(key, visibility_timeout() * (settings.CELERY_MAX_DELIVERIES + 1))
        except redis.RedisError:
            logger.warning("celery: could not count the deliveries of %s %s", self.name, self.request.id)
            count = 1
        if count > settings.CELERY_MAX_DELIVERIES:
            logger.error(
                "celery: %s %s started %s times without finishing: dead-lettered", self.name, self.request.id, count
            )
            dead_letter_park(
                task_id=self.request.id,
                task_name=self.name,
                args=args,
                kwargs=kwargs,
                exception=f"started {count - 1} times without finishing (the worker died each time)",
                delivery_count=count - 1,
            )
            return None
        return self.run(*args, **kwargs)

    def after_return(self, status, retval, task_id, args, kwargs, einfo) -> None:
        if task_id is None or self.request.called_directly:
            return
        try:
            _redis().delete(self._delivery_key())
        except redis.RedisError:
            pass  # the key expires by itself

    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        if not self.dead_letter_on_failure:
            return
        dead_letter_park(
            task_id=task_id,
            task_name=self.name,
            args=args,
            kwargs=kwargs,
            exception=str(einfo) if einfo else repr(exc),
            delivery_count=(self.request.retries or 0) + 1,
        )


def dead_letter_requeue(*, dead_letter) -> str:
    """Send a parked message again under a new task id; returns it. The row records when."""
    from celery import current_app

    result = current_app.send_task(dead_letter.task_name, args=dead_letter.args, kwargs=dead_letter.kwargs)
    dead_letter.requeued_at = timezone.now()
    dead_letter.save(update_fields=["requeued_at"])
    return result.id


def task_named(name: str) -> Task:
    """The registered task ``name``, for a service that queues a task of its own concern.

    A concern's ``tasks`` module imports its services (tasks are thin), so a service importing that module
    back would close an import cycle; it asks the app for the task by the name it is registered under instead
    (the name is its contract anyway: the beat schedule and the dead letters use it). The task modules are
    imported when the app is ready (``crm.apps``) and by the worker's autodiscovery, so every process knows them;
    a name nobody registered raises ``KeyError``.
    """
    from config.celery import app

    return app.tasks[name]
