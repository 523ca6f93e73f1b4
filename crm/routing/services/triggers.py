"""Asking for a routing run: once the current transaction commits, a ``route_pending_task`` is queued."""

import logging

from django.db import transaction

from config.tasks import task_named

ROUTE_PENDING_TASK = "crm.tasks.route_pending_task"

logger = logging.getLogger(__name__)

# A triggered run that has not started within this many seconds is dropped: the beat entry has run since.
TRIGGER_EXPIRES_SECONDS = 60


def _publish_route_request(reason: str) -> None:
    try:
        task_named(ROUTE_PENDING_TASK).apply_async(expires=TRIGGER_EXPIRES_SECONDS, retry_policy={"max_retries": 1})
    except Exception:
        # The change that triggered this is committed; a broker hiccup must not turn it into an error.
        # The periodic run routes the work a few seconds later.
        logger.exception("routing: could not request a routing run (%s); the periodic run will catch up", reason)


def request_routing(*, reason: str) -> None:
    """Ask for a routing run once the current transaction (if any) commits."""
    transaction.on_commit(lambda: _publish_route_request(reason))
