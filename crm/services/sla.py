"""Service-level targets: which target applies to an interaction, when it is due, and whether it is late.

Due times are stored on the interaction (so the breach sweep is an indexed query) and recomputed by
``crm.services.lifecycle`` at creation, on a priority change and on reopen.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from ..choices import OPEN_STATUSES
from ..models import Interaction, Queue, SLAPolicy, SLATarget


def sla_target_for(*, queue: Queue | None, channel: str, priority: int) -> SLATarget | None:
    """The most specific target of the queue's active policy for this channel and priority.

    Specificity: channel and priority, then channel with any priority, then any channel with the
    priority, then any channel and any priority. No queue, no policy or an inactive one: no target.
    """
    if queue is None or queue.sla_policy_id is None:
        return None
    # at most four rows match; ranking them here is simpler than a CASE ordering and as cheap
    candidates = SLATarget.objects.select_related("policy").filter(
        Q(priority=priority) | Q(priority__isnull=True),
        policy_id=queue.sla_policy_id,
        policy__is_active=True,
        channel__in=[channel, ""],
    )

    def rank(target: SLATarget) -> tuple[bool, bool]:
        return target.channel == channel, target.priority == priority

    return max(candidates, key=rank, default=None)


def sla_add_seconds(*, start: datetime, seconds: int, policy: SLAPolicy | None) -> datetime:
    """The moment ``seconds`` of SLA time after ``start``.

    Calendar time for now. This is the one place business-hours calendars plug in
    (``policy.business_hours_only``): count only open hours of the queue's calendar.
    """
    return start + timedelta(seconds=seconds)


def sla_due_times(*, interaction: Interaction) -> tuple[datetime | None, datetime | None]:
    """``(first_response_due_at, resolution_due_at)`` for the interaction, counted from when it was queued."""
    target = sla_target_for(queue=interaction.queue, channel=interaction.channel, priority=interaction.priority)
    if target is None:
        return None, None
    start = interaction.queued_at or interaction.created_at
    policy = target.policy
    first_due = sla_add_seconds(start=start, seconds=target.first_response_seconds, policy=policy)
    resolution_due = (
        sla_add_seconds(start=start, seconds=target.resolution_seconds, policy=policy)
        if target.resolution_seconds
        else None
    )
    return first_due, resolution_due


@dataclass(frozen=True)
class SLAState:
    """How an interaction stands against its due times at one moment (for display, not for escalation)."""

    first_response_breached: bool
    resolution_breached: bool
    first_response_remaining_seconds: int | None
    resolution_remaining_seconds: int | None


def sla_state(*, interaction: Interaction, now: datetime | None = None) -> SLAState:
    """Breached flags and seconds left (negative once overdue; None when the clock has stopped or there is none).

    A clock stops when its step is done: the first response when it was sent, the resolution when the
    interaction was resolved; an abandoned or closed interaction stops both at that moment.
    """
    now = now or timezone.now()
    stopped_at = interaction.resolved_at or interaction.closed_at or interaction.abandoned_at
    is_open = interaction.status in OPEN_STATUSES

    def measure(due: datetime | None, done_at: datetime | None) -> tuple[bool, int | None]:
        if due is None:
            return False, None
        end = done_at or (now if is_open else stopped_at) or now
        if done_at is not None or not is_open:
            return end > due, None
        return end > due, int((due - now).total_seconds())

    first_breached, first_left = measure(interaction.first_response_due_at, interaction.first_response_at)
    resolution_breached, resolution_left = measure(interaction.resolution_due_at, interaction.resolved_at)
    return SLAState(
        first_response_breached=first_breached,
        resolution_breached=resolution_breached,
        first_response_remaining_seconds=first_left,
        resolution_remaining_seconds=resolution_left,
    )
