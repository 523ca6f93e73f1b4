"""Overflow: work that waited too long in a queue moves on to that queue's overflow queue.

A queue with both ``overflow_queue`` and ``overflow_after_seconds`` sends its waiting work on once it has
waited that long in it. The wait counts from when the interaction entered its current queue, read from
the event log: the latest event that brought it into a queue (created into one, reopened, sent or
transferred back, overflowed). So a chain A → B → C moves one hop per sweep, each hop after the time of
the queue it leaves, and no extra column has to be kept in step by every service that moves work between
queues (the log is written by all of them already). The lookup is one index probe per waiting row of a
queue with overflow (``event_interaction_at``).

``queued_at`` is kept: in the overflow queue the interaction keeps its place by age, and its SLA due
times stay as they were (the customer's clock does not restart). Work is moved only into an active
overflow queue that serves its channel; otherwise it stays where it is.
"""

import logging
from collections import defaultdict
from datetime import datetime

from django.contrib.postgres.fields import ArrayField
from django.db import transaction
from django.db.models import CharField, F, Func, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Extract
from django.utils import timezone

from crm.choices import InteractionEventKind, InteractionStatus
from crm.interactions.models import Interaction, InteractionEvent
from crm.interactions.services.eventlog import log_events

from .triggers import request_routing

logger = logging.getLogger(__name__)

S = InteractionStatus
Kind = InteractionEventKind

# Events that put an interaction into a queue: a status step into queued, or an overflow or SLA escalation
# (queued → queued).
QUEUE_ENTRY = (Q(to_status=S.QUEUED) & ~Q(from_status=S.QUEUED)) | Q(kind__in=[Kind.OVERFLOWED, Kind.ESCALATED])


def _overflow_due(*, now: datetime) -> QuerySet:
    """Queued work that has waited its queue's overflow time in that queue, and may move on."""
    entered = InteractionEvent.objects.filter(QUEUE_ENTRY, interaction=OuterRef("pk")).order_by("-at", "-id")
    channel_array = Func(F("channel"), template="ARRAY[%(expressions)s]", output_field=ArrayField(CharField()))
    return (
        Interaction.objects.filter(
            status=S.QUEUED,
            queue__overflow_after_seconds__isnull=False,
            queue__overflow_queue__is_active=True,
            queue__overflow_queue__channels__contains=channel_array,
        )
        .annotate(entered_at=Coalesce(Subquery(entered.values("at")[:1]), "queued_at", "created_at"))
        .annotate(waited=Extract(Value(now) - F("entered_at"), "epoch"))
        .filter(waited__gte=F("queue__overflow_after_seconds"))
    )


def queue_overflow_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Move up to ``limit`` interactions, oldest first, whose overflow time has passed; returns how many.

    Safe to run from many processes at once: rows are claimed with ``FOR UPDATE SKIP LOCKED`` (a row
    another sweep holds is its business) and re-read under the lock, so none moves twice. Status and
    ``queued_at`` stay; each move logs an ``overflowed`` event with both queues. When anything moved, a
    routing run is requested (the receivers leave overflow events to this one request).
    """
    now = now or timezone.now()
    with transaction.atomic():
        claimed = list(
            _overflow_due(now=now)
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("queued_at", "id")
            .values_list("pk", flat=True)[:limit]
        )
        if not claimed:
            return 0
        # Read again under the locks: this statement sees what committed meanwhile, so a row another sweep
        # moved while this one was scanning is now in its new queue, entered just now, and no longer due.
        rows = list(
            _overflow_due(now=now)
            .filter(pk__in=claimed)
            .order_by("queued_at", "id")
            .values_list("pk", "queue_id", "queue__overflow_queue_id")
        )
        hops: dict[tuple[int, int], list[int]] = defaultdict(list)
        for pk, from_queue, to_queue in rows:
            hops[(from_queue, to_queue)].append(pk)
        for (_, to_queue), pks in hops.items():
            Interaction.objects.filter(pk__in=pks).update(queue_id=to_queue, updated_at=now)
        log_events(
            events=[
                InteractionEvent(
                    interaction_id=pk,
                    kind=Kind.OVERFLOWED,
                    from_status=S.QUEUED,
                    to_status=S.QUEUED,
                    at=now,
                    data={"from_queue": from_queue, "to_queue": to_queue},
                )
                for pk, from_queue, to_queue in rows
            ]
        )
    if rows:
        logger.info("overflow: moved %d interaction(s)", len(rows))
        request_routing(reason=f"{len(rows)} interaction(s) overflowed")
    return len(rows)
