"""What the live websockets are told: the events and who hears them (the consumers are in ``crm.live.consumers``).

The receivers (``crm.live.receivers``) hang on ``crm.interactions.signals.interaction_changed`` and ``agents.signals.agent_status_changed``
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
means lost messages: it sends a fresh snapshot on its own (see ``crm.live.consumers``). ``eid`` identifies one
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
- ``message.delivery`` (``crm.inboxes.signals.delivery_changed``: a reply's delivery was sent, failed, is
  retrying, was put back by a person, or the provider reported it delivered or read), to the agent group of the
  interaction's agent only: ``{"interaction": id, "message": id, "status":
  "pending"|"sent"|"delivered"|"read"|"failed", "error": "...", "attempts": n}``. The console updates the status
  beside that reply in place.
- ``message.created`` (``crm.interactions.signals.message_created`` of a customer's message: an e-mail, an
  integrator's inbound message), to the agent group of the interaction's agent only: ``{"interaction": id,
  "message": id, "direction": "inbound"}``. A console showing that interaction redraws its conversation.
- ``sla.breached`` (``crm.sla.signals.sla_breaches``: one sweep's breaches at once), to the team group of the
  interaction's queue, ``wallboard.all`` and the owning agent's group: ``{"interaction": id, "queue": id|null, "agent":
  id|null, "target": "first_response"|"next_response"|"resolution", "due_at"}`` (one query per sweep). A sweep
  that recorded more than ``BREACH_SUMMARY_OVER`` breaches sends the wallboard groups one ``sla.breaches``
  each instead, ``{"count": n, "by_queue": {"<queue id>": n}}``; agents still get their own ``sla.breached``.

Publishing never breaks the caller: the change is committed already, and a Redis error is logged (the
clients catch up at their next resync or reconnect). The receivers run in the caller's thread after its
commit (a couple of queries per event, and two pipelined Redis round trips per publish whatever its events and
groups); the sends go through one event loop per process (``crm.live.publisher``) so Redis connections are reused.
"""

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db.models import BooleanField
from django.db.models.expressions import RawSQL

from agents.models import Agent, Break, TrainingRecord
from crm.choices import OWNED_STATUSES, InteractionEventKind, InteractionStatus, MessageDirection
from crm.interactions.models import Interaction

from .figures import inboxes_behind_queues, live_inbox_stats
from .publisher import WALLBOARD_ALL, agent_group, queue_group, team_group
from .selectors import live_agent_presence, live_interaction, live_interactions, live_queue_stats

S = InteractionStatus
Kind = InteractionEventKind
# Status-changing kinds this module knows; an unknown kind (added elsewhere later) is treated as a possible
# move between agents and queues, which costs two subqueries more and is always right.
KNOWN_KINDS = frozenset(Kind.values)
MOVING_KINDS = frozenset({Kind.TRANSFERRED, Kind.OVERFLOWED})
FINISHED = frozenset({S.RESOLVED, S.CLOSED, S.ABANDONED})
# A sweep with more breaches than this tells each wallboard group one count per queue (``sla.breaches``)
# instead of one message per breach: a thousand Redis round trips would outlast the sweep itself.
BREACH_SUMMARY_OVER = 20


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


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


def queue_stats_sends(queue_ids: set[int]) -> list[tuple[set[str], str, dict[str, Any]]]:
    """The ``queue.stats`` of these queues, one aggregate (sent by ``crm.live.queue_stats``, coalesced)."""
    sends = []
    for stats in live_queue_stats(queue_ids=queue_ids):
        groups = {queue_group(stats["id"]), WALLBOARD_ALL}
        if stats["team"] is not None:
            groups.add(team_group(stats["team"]))
        sends.append((groups, "queue.stats", stats))
    return sends


def inbox_stats_sends(queue_ids: set[int]) -> list[tuple[set[str], str, dict[str, Any]]]:
    """``inbox.stats`` of the inboxes behind these queues (the wallboards' split by inbox; two queries)."""
    sends = []
    inbox_ids = inboxes_behind_queues(queue_ids)
    for stats in live_inbox_stats(inbox_ids=inbox_ids) if inbox_ids else []:
        groups = {WALLBOARD_ALL} | ({team_group(stats["team"])} if stats["team"] is not None else set())
        sends.append((groups, "inbox.stats", stats))
    return sends


def _moved(*, kind: str, from_status: str, to_status: str) -> bool:
    """Whether the work may have left an agent or a queue (who must then hear of it too)."""
    return (
        kind in MOVING_KINDS
        or (from_status in OWNED_STATUSES and to_status == S.QUEUED)
        or (kind not in KNOWN_KINDS and from_status != to_status)
    )


def _event_send(*, event: str, found: dict[str, Any]) -> tuple[set[str], str, dict[str, Any]]:
    """The interaction event's own send: to its agents, and (unless a detail changed) to the wallboards of its
    queue's team and of the team of the queue it left, so that supervisor sees it go."""
    summary = found["summary"]
    groups = {agent_group(agent_id) for agent_id in {summary["agent"], found["previous_agent"]} - {None}}
    if event != "interaction.updated":
        groups.add(WALLBOARD_ALL)
        for team in {found["queue_team"], found.get("previous_queue_team")} - {None}:
            groups.add(team_group(team))
    return (groups, event, summary)


Sends = list[tuple[set[str], str, dict[str, Any]]]


def _affected_queues(found: dict[str, Any]) -> set[int]:
    return {found["summary"]["queue"], found["previous_queue"]} - {None}


def interaction_sends(*, interaction_id: int, kind: str, from_status: str, to_status: str) -> tuple[Sends, set[int]]:
    """What one interaction change publishes, as ``(groups, event, data)`` in sending order, and the queues whose
    figures it changed (their ``queue.stats`` follow, coalesced: ``crm.live.queue_stats``)."""
    event = interaction_event_name(kind=kind, to_status=to_status)
    if event is None:
        return [], set()
    moved = _moved(kind=kind, from_status=from_status, to_status=to_status)
    found = live_interaction(interaction_id=interaction_id, with_previous=moved)
    if found is None:
        return [], set()
    queues = _affected_queues(found) if (from_status != to_status or moved) else set()
    return [_event_send(event=event, found=found)], queues


def interaction_batch_sends(*, changes: Sequence[Mapping[str, Any]]) -> tuple[Sends, set[int]]:
    """What changes committed together publish: each change's event in order, and the queues whose figures
    they changed. One query for a batch that moved nothing between agents or queues, however many changes it
    holds; a change that moved work reads its own previous agent and queue."""
    named = []
    for change in changes:
        event = interaction_event_name(kind=change["kind"], to_status=change["to_status"])
        if event is not None:
            named.append((change, event, _moved(**{k: change[k] for k in ("kind", "from_status", "to_status")})))
    if not named:
        return [], set()
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
    sends = [
        _event_send(event=event, found=found[change["interaction_id"]])
        for change, event, _ in named
        if change["interaction_id"] in found
    ]
    return sends, queues


def agent_status_sends(*, agent_id: int) -> list[tuple[set[str], str, dict[str, Any]]]:
    presence = live_agent_presence(agent_id=agent_id)
    if presence is None:
        return []
    groups = {agent_group(agent_id), WALLBOARD_ALL}
    if presence["team"] is not None:
        groups.add(team_group(presence["team"]))
    return [(groups, "agent.status_changed", presence)]


def agent_and_team_groups(agent: Agent) -> set[str]:
    groups = {agent_group(agent.pk), WALLBOARD_ALL}
    if agent.team_id is not None:
        groups.add(team_group(agent.team_id))
    return groups


def agent_disconnected_sends(*, agent: Agent, interaction_ids: list[int]) -> list[tuple[set[str], str, dict[str, Any]]]:
    """``agent.disconnected`` to the agent's team and the wallboards: their console is gone with chats open."""
    data = {"agent": agent.pk, "name": agent.name, "interactions": interaction_ids}
    return [(agent_and_team_groups(agent), "agent.disconnected", data)]


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
            "started_at": iso(brk.started_at),
            "ends_at": iso(ends_at),
        },
    }
    return [(agent_and_team_groups(agent), event, data)]


def training_sends(
    *, event: str, agent: Agent, record: TrainingRecord, days_left: int | None
) -> list[tuple[set[str], str, dict[str, Any]]]:
    course = record.course  # loaded by the reminder sweep; one query when a sender did not
    data = {"agent": agent.pk, "record": record.pk, "course": course.title, "days_left": days_left}
    return [({agent_group(agent.pk)}, event, data)]


_READ = object()  # the agent is not known: read it


def delivery_sends(
    *, interaction_id: int, message_id: int, status: str, error: str, attempts: int, agent_id: Any = _READ
) -> list[tuple[set[str], str, dict[str, Any]]]:
    """``message.delivery`` to the agent holding the interaction (``agent_id`` when the caller knows it, None for
    nobody; else one query): where their reply stands."""
    if agent_id is _READ:
        agent_id = Interaction.objects.filter(pk=interaction_id).values_list("agent_id", flat=True).first()
    if agent_id is None:
        return []
    data = {
        "interaction": interaction_id,
        "message": message_id,
        "status": status,
        "error": error,
        "attempts": attempts,
    }
    return [({agent_group(agent_id)}, "message.delivery", data)]


def message_sends(
    *, interaction_id: int, message_id: int, direction: str, agent_id: int | None
) -> list[tuple[set[str], str, dict[str, Any]]]:
    """``message.created`` to the agent holding the interaction (``agent_id``, as the signal tells it: no query):
    the customer wrote. Replies and notes are not announced: their author's page shows them, and nobody else's
    console draws the conversation."""
    if direction != MessageDirection.INBOUND or agent_id is None:
        return []
    data = {"interaction": interaction_id, "message": message_id, "direction": direction}
    return [({agent_group(agent_id)}, "message.created", data)]


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
            "due_at": iso(breach.get("due_at")),
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
