"""What the outboxes share: a beat sweep takes the pending rows that are due and not in flight, and leases them.

The survey and webhook-delivery rows are the outboxes (written in the transaction of the change that causes
them). Publishing them leases each row for ``PUBLISH_LEASE_SECONDS``, so the sweep does not publish a row
again while its task is queued; a lost message is published again once the lease runs out.
"""

from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q, QuerySet

PUBLISH_LEASE_SECONDS = 60
SWEEP_BATCH = 200


def outbox_lease_due(
    *, due: QuerySet, order_by: str, now: datetime, limit: int, publish: Callable[[list[int]], None]
) -> int:
    """Lease up to ``limit`` rows of ``due`` (pending and due) that no one holds, and ``publish`` their ids on
    commit. Rows locked by a concurrent sweep are skipped. Returns how many were leased."""
    with transaction.atomic():
        ids = list(
            due.filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
            .order_by(order_by)
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            due.model.objects.filter(pk__in=ids).update(leased_until=now + timedelta(seconds=PUBLISH_LEASE_SECONDS))
            transaction.on_commit(lambda: publish(ids))
    return len(ids)
