"""How an interaction stands against its due times at one moment (what the API shows as ``sla``)."""

import math
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from crm.choices import OPEN_STATUSES
from crm.interactions.models import Interaction

from .engine import FIRST, NEXT, RESOLUTION


@dataclass(frozen=True)
class SLAState:
    """How an interaction stands against its due times at one moment (the API's ``sla``)."""

    first_response_due_at: datetime | None
    next_response_due_at: datetime | None
    resolution_due_at: datetime | None
    remaining_seconds: dict[str, int | None]
    breached: list[str]
    paused: bool


def sla_state(*, interaction: Interaction, now: datetime | None = None) -> SLAState:
    """Due times, seconds left per clock (negative once overdue; None when stopped or absent), breached targets.

    Seconds left are calendar seconds to the due time; while paused they stay at what was left when the
    pause began. A clock stops when its step is done; at resolution (or close, abandon) all stop, and a
    target counts as breached when its step was done late or is still undone past its due time.
    """
    i = interaction
    now = now or timezone.now()
    is_open = i.status in OPEN_STATUSES
    stopped_at = i.resolved_at or i.closed_at or i.abandoned_at or now
    clock_now = i.sla_paused_at or now
    remaining: dict[str, int | None] = {}
    breached: list[str] = []
    for name, due, done_at in (
        (FIRST, i.first_response_due_at, i.first_response_at),
        (NEXT, i.next_response_due_at, None),
        (RESOLUTION, i.resolution_due_at, i.resolved_at),
    ):
        remaining[name] = None
        if due is None:
            continue
        if done_at is not None or not is_open:
            if (done_at or stopped_at) > due:
                breached.append(name)
            continue
        left = math.floor((due - clock_now).total_seconds())
        remaining[name] = left
        if left < 0:
            breached.append(name)
    return SLAState(
        first_response_due_at=i.first_response_due_at,
        next_response_due_at=i.next_response_due_at,
        resolution_due_at=i.resolution_due_at,
        remaining_seconds=remaining,
        breached=breached,
        paused=i.sla_paused_at is not None,
    )
