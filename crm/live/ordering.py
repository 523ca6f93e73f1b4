"""In-order delivery of a group's numbered events that may arrive a little out of order.

Two processes publishing to one group take their numbers from the group's Redis counter and then send: the one
that took 6 may send before the one that took 5. Treating every such swap as a lost event made a socket rebuild
its snapshot (a few queries each) at exactly the moments a center is busiest, and under load one snapshot begot
the next. A socket now holds an early event for up to ``REORDER_WAIT_SECONDS`` while the hole fills: the late event
arrives and both go out in order. Only a hole that stays open that long counts as a loss (then the snapshot,
as before).
"""

import asyncio
import logging
import time
from typing import Any

logger = logging.getLogger(__name__)

# How long an event numbered past a hole waits for the missing one before the socket takes a fresh snapshot.
REORDER_WAIT_SECONDS = 1.0


class GroupOrder:
    """Per group: the last number delivered, and the early events held back until the numbers before them came."""

    def __init__(self) -> None:
        self.last: dict[str, int] = {}
        self.held: dict[str, dict[int, dict[str, Any]]] = {}
        self.hole_since: dict[str, float] = {}

    def reset(self, counters: dict[str, int]) -> list[dict[str, Any]]:
        """A snapshot read up to ``counters``: what it holds is dropped, and what is held past it follows in order."""
        self.last = dict(counters)
        held, self.held, self.hole_since = self.held, {}, {}
        released = []
        for group, events in held.items():
            for gseq in sorted(events):
                released += self.accept(group, gseq, events[gseq])
        return released

    def accept(self, group: str, gseq: int, message: dict[str, Any]) -> list[dict[str, Any]]:
        """The events that may go out now, in order (none when ``message`` is old, or early and held back)."""
        last = self.last.get(group)
        if last is None or gseq <= last:
            return []  # a group this socket left, or already delivered (or in the snapshot)
        held = self.held.setdefault(group, {})
        held[gseq] = message
        released = []
        while last + 1 in held:
            last += 1
            released.append(held.pop(last))
        self.last[group] = last
        if held:
            self.hole_since.setdefault(group, time.monotonic())
        else:
            self.held.pop(group, None)
            self.hole_since.pop(group, None)
        return released

    def overdue(self, *, wait: float = REORDER_WAIT_SECONDS) -> list[str]:
        """Groups whose hole has been open for ``wait`` seconds or more: their missing events are lost."""
        now = time.monotonic()
        return sorted(group for group, since in self.hole_since.items() if now - since >= wait)

    def waiting(self) -> bool:
        return bool(self.hole_since)


class HoleWatch:
    """For a consumer with ``order`` (a ``GroupOrder``), ``hole_check`` (a task or None) and ``send_snapshot()``:
    once an event is held back, watch the hole; one still open after ``REORDER_WAIT_SECONDS`` takes a snapshot."""

    def watch_holes(self) -> None:
        if self.order.waiting() and (self.hole_check is None or self.hole_check.done()):
            self.hole_check = asyncio.create_task(self.check_holes())

    async def check_holes(self) -> None:
        while self.order.waiting():
            await asyncio.sleep(REORDER_WAIT_SECONDS / 4)
            lost = self.order.overdue()
            if lost:
                logger.info("live socket %s: events of %s never arrived; sending a snapshot", self.channel_name, lost)
                self.hole_check = None  # the snapshot may start the next watch
                try:
                    await self.send_snapshot()
                except OSError:  # the client went away meanwhile (the server's ClientDisconnected): nobody to tell
                    logger.info("live socket %s: closed before its snapshot", self.channel_name)
                return
