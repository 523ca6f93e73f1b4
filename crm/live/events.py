"""Publishing live events to the websockets (the consumers are in ``crm.consumers``).

The receivers below hang on ``crm.signals.interaction_changed`` and ``agents.signals.agent_status_changed``
(and the supervision and SLA signals listed further down), all sent after the change committed, so
nothing is announced that rolled back. Each reads the state as it
is now (one query for the interaction, one aggregate for the queue figures, one for an agent) and sends it
to the channel-layer groups of whoever may see it:

- ``agent.<id>``: the agent's console. Their interactions (and an interaction that just left them on a
  transfer or re-queue, so it disappears from their screen) and their own ``agent.status_changed``;
- ``queue.<id>``: ``queue.stats`` of the queue; consoles join the queues their agent serves;
- ``team.<id>``: a supervisor's wallboard. Interaction events of the team's queues, ``queue.stats`` of
  them, ``sla.breached`` of their work, and ``agent.status_changed`` and ``break.*`` of the team's agents;
- ``wallboard.all``: a staff wallboard; everything the team groups carry, for every team.

Interaction event names follow the status the interaction is in: ``interaction.queued`` (waiting in a
queue: queued, re-queued, reopened, transferred or overflowed), ``interaction.assigned`` (offered to an
agent, also by transfer), ``interaction.resolved`` (it left the floor: resolved, closed or abandoned; the
summary's ``status`` says which), and ``interaction.updated`` for everything else (accepted, on hold,
wrap-up, field changes, first response, and kinds this module does not know yet). ``interaction.updated``
goes to agent groups only: a wallboard shows figures, not the work's details. A ``queue.stats`` for the
affected queues (its queue and the one it left) follows each interaction event that changed a status or
a queue. Changes committed together (a router's batch: ``interaction_changed`` with ``batch``) are published
together at the first of them: every event in order, then each affected queue's figures once, read with one
query for the summaries and one aggregate for the figures.

Gap detection. channels-redis delivers at most once: a message to a channel over its capacity is dropped,
and the consumer never learns of it by itself. So each message carries ``gseq``, a per-group counter
taken from Redis (``INCR <prefix>:live:seq:<group>``, one pipelined round trip for all the event's groups)
before the message is sent; the consumer remembers the last ``gseq`` per group it joined, and a jump
means lost messages: it sends a fresh snapshot on its own (see ``crm.consumers``). ``eid`` identifies one
event across the groups it was sent to, so a wallboard in two of them forwards it once.

Supervision and SLA events (their ``data`` is small: a client that wants more re-fetches its panel):

- ``break.requested``, ``break.started``, ``break.ended`` (``agents.signals.break_*``), to the agent's group,
  their team's group and ``wallboard.all``: ``{"agent": id, "break": {"id", "type" (code), "type_name",
  "status", "minutes", "started_at", "ends_at"}}`` (datetimes ISO-8601 or null; ``ends_at`` is the planned
  end of a started break). ``break.requested`` is also a break a supervisor planned for the agent
  (``status`` approved or scheduled). ``break.decided``: a supervisor approved, scheduled or denied a request
  (same groups and data; ``status`` says which). The presence change a start or end makes comes as its own
  ``agent.status_changed``, just before.
- ``break.due`` (a well-being break fell due), same groups: ``{"agent": id, "notice": id, "minutes": n,
  "detail": "...", "due_at"}``.
- ``training.expiring`` / ``training.expired``, to the agent's group only (nobody else's business on a
  screen): ``{"agent": id, "record": id, "course": "title", "days_left": n|null}``.
- ``sla.breached`` (``crm.signals.sla_breaches``: one sweep's breaches at once), to the team group of the
  interaction's queue, ``wallboard.all`` and the owning agent's group: ``{"interaction": id, "queue": id|null, "agent":
  id|null, "target": "first_response"|"next_response"|"resolution", "due_at"}`` (one query per sweep). A sweep
  that recorded more than ``BREACH_SUMMARY_OVER`` breaches sends the wallboard groups one ``sla.breaches``
  each instead, ``{"count": n, "by_queue": {"<queue id>": n}}``; agents still get their own ``sla.breached``.

Publishing never breaks the caller: the change is committed already, and a Redis error is logged (the
clients catch up at their next resync or reconnect). The receivers run in the caller's thread after its
commit (a few milliseconds per event: two queries and one Redis round trip per group); the sends go
through one event loop per process (``_PublisherLoop``) so Redis connections are reused.
"""

import asyncio
import logging
import os
import threading
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import datetime, timedelta
from typing import Any

from channels.layers import get_channel_layer
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL
from django.dispatch import receiver

from agents.models import Agent, Break, TrainingRecord
from agents.signals import (
    agent_status_changed,
    break_decided,
    break_due,
    break_ended,
    break_requested,
    break_started,
    training_expired,
    training_expiring,
)

from .choices import OWNED_STATUSES, InteractionEventKind, InteractionStatus
from .models import Interaction
from .selectors.live import live_agent_presence, live_interaction, live_interactions, live_queue_stats
from .signals import interaction_changed, sla_breaches

logger = logging.getLogger(__name__)

S = InteractionStatus
Kind = InteractionEventKind

WALLBOARD_ALL = "wallboard.all"
# Status-changing kinds this module knows; an unknown kind (added elsewhere later) is treated as a possible
# move between agents and queues, which costs two subqueries more and is always right.
KNOWN_KINDS = frozenset(Kind.values)
MOVING_KINDS = frozenset({Kind.TRANSFERRED, Kind.OVERFLOWED})
FINISHED = frozenset({S.RESOLVED, S.CLOSED, S.ABANDONED})
# A sweep with more breaches than this tells each wallboard group one count per queue (``sla.breaches``)
# instead of one message per breach: a thousand Redis round trips would outlast the sweep itself.
BREACH_SUMMARY_OVER = 20
MESSAGE_TYPE = "live.event"  # handled by ``LiveConsumer.live_event``
# A publisher waits this long for Redis before it gives up (and logs): the caller's request is waiting.
PUBLISH_TIMEOUT_SECONDS = 5.0


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def agent_group(agent_id: int) -> str:
    return f"agent.{agent_id}"


def queue_group(queue_id: int) -> str:
    return f"queue.{queue_id}"


def team_group(team_id: int) -> str:
    return f"team.{team_id}"


def counter_key(group: str) -> str:
    """The Redis key of a group's event counter (next to the layer's own keys, under its prefix)."""
    prefix = getattr(get_channel_layer(), "prefix", "switchboard")
    return f"{prefix}:live:seq:{group}"


def interaction_event_name(*, kind: str, to_status: str) -> str | None:
    """The event a lifecycle step publishes; None for creation (a queued event follows when it has a queue)."""
    if kind == Kind.CREATED:
        return None
    if to_status == S.QUEUED:
        return "interaction.queued"
    if to_status == S.ASSIGNED:
        return "interaction.assigned"
    if to_status in FINISHED:
        return "interaction.resolved"
    return "interaction.updated"


async def _send(sends: list[tuple[set[str], str, dict[str, Any]]]) -> None:
    """Number and send ``(groups, event, data)`` in order: one pipelined INCR for all, then the group sends."""
    layer = get_channel_layer()
    plan = [group for groups, _, _ in sends for group in sorted(groups)]
    if layer is None or not plan:
        return
    # ``connection`` is the layer's own pool for the running event loop, so no second client is kept.
    async with layer.connection(0).pipeline(transaction=False) as pipe:
        for group in plan:
            pipe.incr(counter_key(group))
        numbers = await pipe.execute()
    numbered = iter(numbers)
    for groups, event, data in sends:
        message = {"type": MESSAGE_TYPE, "eid": uuid.uuid4().hex, "event": event, "data": data}
        # one event's groups at once; events one after the other, so a group sees them in order
        await asyncio.gather(
            *(layer.group_send(group, {**message, "group": group, "gseq": next(numbered)}) for group in sorted(groups))
        )


class _PublisherLoop:
    """One event loop per process, in a daemon thread, that all synchronous publishers hand their sends to.

    ``async_to_sync`` from a Celery worker or a management command would make an event loop, and with it
    a new Redis connection pool, for every event (about 5 ms each, measured); this loop keeps the layer's
    pool open. Started on first use and again after a fork (Celery's prefork children), since a thread does
    not survive a fork.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._pid = 0

    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._pid != os.getpid() or not (self._thread and self._thread.is_alive()):
                self._loop = asyncio.new_event_loop()
                self._thread = threading.Thread(target=self._loop.run_forever, name="live-events", daemon=True)
                self._thread.start()
                self._pid = os.getpid()
            return self._loop

    def run(self, coroutine, *, timeout: float) -> None:
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop())
        try:
            future.result(timeout)
        except FutureTimeout:
            future.cancel()
            raise


_publisher = _PublisherLoop()


def publish(sends: list[tuple[set[str], str, dict[str, Any]]]) -> None:
    """Send events from synchronous code (signal receivers); a failure is logged, never raised."""
    if not sends:
        return
    try:
        _publisher.run(_send(sends), timeout=PUBLISH_TIMEOUT_SECONDS)
    except Exception:
        logger.exception("live events: could not publish %s", ", ".join(event for _, event, _ in sends))


def _stats_sends(queue_ids: set[int]) -> list[tuple[set[str], str, dict[str, Any]]]:
    sends = []
    for stats in live_queue_stats(queue_ids=queue_ids):
        groups = {queue_group(stats["id"]), WALLBOARD_ALL}
        if stats["team"] is not None:
            groups.add(team_group(stats["team"]))
        sends.append((groups, "queue.stats", stats))
    return sends


def _moved(*, kind: str, from_status: str, to_status: str) -> bool:
    """Whether the work may have left an agent or a queue (who must then hear of it too)."""
    return (
        kind in MOVING_KINDS
        or (from_status in OWNED_STATUSES and to_status == S.QUEUED)
        or (kind not in KNOWN_KINDS and from_status != to_status)
    )


def _event_send(*, event: str, found: dict[str, Any], stats: list) -> tuple[set[str], str, dict[str, Any]]:
    """The interaction event's own send; ``stats`` are the queue figures that follow it (for the team it left)."""
    summary = found["summary"]
    groups = {agent_group(agent_id) for agent_id in {summary["agent"], found["previous_agent"]} - {None}}
    if event != "interaction.updated":
        groups.add(WALLBOARD_ALL)
        if found["queue_team"] is not None:
            groups.add(team_group(found["queue_team"]))
        # the team of the queue it left, so that supervisor sees it go
        for _, _, data in stats:
            if data["id"] == found["previous_queue"] and data["team"] is not None:
                groups.add(team_group(data["team"]))
    return (groups, event, summary)


def _affected_queues(found: dict[str, Any]) -> set[int]:
    return {found["summary"]["queue"], found["previous_queue"]} - {None}


def interaction_sends(
    *, interaction_id: int, kind: str, from_status: str, to_status: str
) -> list[tuple[set[str], str, dict[str, Any]]]:
    """What one interaction change publishes, as ``(groups, event, data)`` in sending order."""
    event = interaction_event_name(kind=kind, to_status=to_status)
    if event is None:
        return []
    moved = _moved(kind=kind, from_status=from_status, to_status=to_status)
    found = live_interaction(interaction_id=interaction_id, with_previous=moved)
    if found is None:
        return []
    stats = _stats_sends(_affected_queues(found)) if (from_status != to_status or moved) else []
    return [_event_send(event=event, found=found, stats=stats), *stats]


def interaction_batch_sends(*, changes: Sequence[Mapping[str, Any]]) -> list[tuple[set[str], str, dict[str, Any]]]:
    """What changes committed together publish: each change's event in order, then the affected queues' figures.

    Two queries for a batch that moved nothing between agents or queues (the summaries, the figures), however
    many changes it holds; a change that moved work reads its own previous agent and queue. The figures
    follow the batch once instead of each event, since all the events describe the same committed state.
    """
    named = []
    for change in changes:
        event = interaction_event_name(kind=change["kind"], to_status=change["to_status"])
        if event is not None:
            named.append((change, event, _moved(**{k: change[k] for k in ("kind", "from_status", "to_status")})))
    if not named:
        return []
    found = live_interactions(interaction_ids={change["interaction_id"] for change, _, moved in named if not moved})
    for change, _, moved in named:
        if moved:
            previous = live_interaction(interaction_id=change["interaction_id"], with_previous=True)
            if previous is not None:
                found[change["interaction_id"]] = previous
    queues: set[int] = set()
    for change, _, moved in named:
        if change["interaction_id"] in found and (change["from_status"] != change["to_status"] or moved):
            queues |= _affected_queues(found[change["interaction_id"]])
    stats = _stats_sends(queues) if queues else []
    sends = [
        _event_send(event=event, found=found[change["interaction_id"]], stats=stats)
        for change, event, _ in named
        if change["interaction_id"] in found
    ]
    return [*sends, *stats]


@receiver(interaction_changed, sender=Interaction, dispatch_uid="crm.events.publish_interaction_changed")
def publish_interaction_changed(
    sender, *, interaction_id, kind, from_status, to_status, batch=None, batch_index=0, **kwargs
) -> None:
    if batch is not None and batch_index:
        return  # published with the first change of its batch
    try:
        if batch is not None:
            sends = interaction_batch_sends(changes=batch)
        else:
            sends = interaction_sends(
                interaction_id=interaction_id, kind=kind, from_status=from_status, to_status=to_status
            )
    except Exception:
        # the caller's change is committed; a failed read must not turn it into an error
        logger.exception("live events: could not build the event of interaction %s (%s)", interaction_id, kind)
        return
    publish(sends)


def agent_status_sends(*, agent_id: int) -> list[tuple[set[str], str, dict[str, Any]]]:
    presence = live_agent_presence(agent_id=agent_id)
    if presence is None:
        return []
    groups = {agent_group(agent_id), WALLBOARD_ALL}
    if presence["team"] is not None:
        groups.add(team_group(presence["team"]))
    return [(groups, "agent.status_changed", presence)]


@receiver(agent_status_changed, sender=Agent, dispatch_uid="crm.events.publish_agent_status_changed")
def publish_agent_status_changed(sender, *, agent, **kwargs) -> None:
    try:
        sends = agent_status_sends(agent_id=agent.pk)
    except Exception:
        logger.exception("live events: could not build the status event of agent %s", getattr(agent, "pk", None))
        return
    publish(sends)


# --- supervision: breaks and training ------------------------------------------------------------------


def _agent_and_team_groups(agent: Agent) -> set[str]:
    groups = {agent_group(agent.pk), WALLBOARD_ALL}
    if agent.team_id is not None:
        groups.add(team_group(agent.team_id))
    return groups


def break_sends(*, event: str, agent: Agent, brk: Break) -> list[tuple[set[str], str, dict[str, Any]]]:
    """A break event from the break the signal carries (no query: the service loaded its type)."""
    ends_at = brk.started_at + timedelta(minutes=brk.minutes) if brk.started_at else None
    data = {
        "agent": agent.pk,
        "break": {
            "id": brk.pk,
            "type": brk.break_type.code,
            "type_name": brk.break_type.name,
            "status": brk.status,
            "minutes": brk.minutes,
            "started_at": _iso(brk.started_at),
            "ends_at": _iso(ends_at),
        },
    }
    return [(_agent_and_team_groups(agent), event, data)]


def _publish_break(event: str, agent: Agent, brk: Break) -> None:
    try:
        sends = break_sends(event=event, agent=agent, brk=brk)
    except Exception:
        logger.exception("live events: could not build %s of agent %s", event, getattr(agent, "pk", None))
        return
    publish(sends)


@receiver(break_requested, sender=Agent, dispatch_uid="crm.events.publish_break_requested")
def publish_break_requested(sender, *, agent, brk, **kwargs) -> None:
    _publish_break("break.requested", agent, brk)


@receiver(break_decided, sender=Agent, dispatch_uid="crm.events.publish_break_decided")
def publish_break_decided(sender, *, agent, brk, **kwargs) -> None:
    _publish_break("break.decided", agent, brk)


@receiver(break_started, sender=Agent, dispatch_uid="crm.events.publish_break_started")
def publish_break_started(sender, *, agent, brk, **kwargs) -> None:
    _publish_break("break.started", agent, brk)


@receiver(break_ended, sender=Agent, dispatch_uid="crm.events.publish_break_ended")
def publish_break_ended(sender, *, agent, brk, **kwargs) -> None:
    _publish_break("break.ended", agent, brk)


@receiver(break_due, sender=Agent, dispatch_uid="crm.events.publish_break_due")
def publish_break_due(sender, *, agent, notice, **kwargs) -> None:
    data = {
        "agent": agent.pk,
        "notice": notice.pk,
        "minutes": notice.minutes,
        "detail": notice.detail,
        "due_at": _iso(notice.due_at),
    }
    publish([(_agent_and_team_groups(agent), "break.due", data)])


def training_sends(
    *, event: str, agent: Agent, record: TrainingRecord, days_left: int | None
) -> list[tuple[set[str], str, dict[str, Any]]]:
    course = record.course  # loaded by the reminder sweep; one query when a sender did not
    data = {"agent": agent.pk, "record": record.pk, "course": course.title, "days_left": days_left}
    return [({agent_group(agent.pk)}, event, data)]


@receiver(training_expiring, sender=Agent, dispatch_uid="crm.events.publish_training_expiring")
def publish_training_expiring(sender, *, agent, record, days_left=None, **kwargs) -> None:
    try:
        sends = training_sends(event="training.expiring", agent=agent, record=record, days_left=days_left)
    except Exception:
        logger.exception("live events: could not build training.expiring of record %s", getattr(record, "pk", None))
        return
    publish(sends)


@receiver(training_expired, sender=Agent, dispatch_uid="crm.events.publish_training_expired")
def publish_training_expired(sender, *, agent, record, **kwargs) -> None:
    try:
        sends = training_sends(event="training.expired", agent=agent, record=record, days_left=None)
    except Exception:
        logger.exception("live events: could not build training.expired of record %s", getattr(record, "pk", None))
        return
    publish(sends)


# --- SLA -------------------------------------------------------------------------------------------------


def sla_breach_sends(*, interaction_id: int, target: str, due_at) -> list[tuple[set[str], str, dict[str, Any]]]:
    """``sla.breached`` to the queue's team, the wallboards and the agent holding the work; one query."""
    return sla_breaches_sends(breaches=[{"interaction_id": interaction_id, "target": target, "due_at": due_at}])


def sla_breaches_sends(*, breaches: list[dict[str, Any]]) -> list[tuple[set[str], str, dict[str, Any]]]:
    """``sla_breach_sends`` of many breaches (``interaction_id``, ``target``, ``due_at`` each), in one query."""
    if not breaches:
        return []
    rows = {
        row["pk"]: row
        # one array parameter: an IN list of 1,000 ids costs more to build than to run
        for row in Interaction.objects.filter(
            RawSQL(
                '"crm_interaction"."id" = ANY(%s::bigint[])',
                [list({b["interaction_id"] for b in breaches})],
                BooleanField(),
            )
        )
        .order_by()
        .values("pk", "queue_id", "queue__team_id", "agent_id")
    }
    many = len(breaches) > BREACH_SUMMARY_OVER
    summaries: dict[str, Counter] = {}
    sends = []
    for breach in breaches:
        row = rows.get(breach["interaction_id"])
        if row is None:
            continue  # deleted since
        wallboards = {WALLBOARD_ALL}
        if row["queue__team_id"] is not None:
            wallboards.add(team_group(row["queue__team_id"]))
        agent = {agent_group(row["agent_id"])} if row["agent_id"] is not None else set()
        data = {
            "interaction": row["pk"],
            "queue": row["queue_id"],
            "agent": row["agent_id"],
            "target": breach["target"],
            "due_at": _iso(breach.get("due_at")),
        }
        if many:  # the agent still hears of their own; the wallboards get one count per queue below
            for group in wallboards:
                summaries.setdefault(group, Counter())[row["queue_id"]] += 1
            if agent:
                sends.append((agent, "sla.breached", data))
        else:
            sends.append((wallboards | agent, "sla.breached", data))
    for group, by_queue in sorted(summaries.items()):
        data = {
            "count": sum(by_queue.values()),
            "by_queue": {str(queue_id): n for queue_id, n in sorted(by_queue.items()) if queue_id is not None},
        }
        sends.append(({group}, "sla.breaches", data))
    return sends


@receiver(sla_breaches, dispatch_uid="crm.events.publish_sla_breaches")
def publish_sla_breaches(sender, *, breaches, **kwargs) -> None:
    """A sweep's breaches: one query and one hand-over to the publisher loop, whatever their number."""
    try:
        sends = sla_breaches_sends(breaches=breaches)
    except Exception:
        logger.exception("live events: could not build sla.breached of %d breach(es)", len(breaches))
        return
    publish(sends)
