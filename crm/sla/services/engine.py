"""Service-level clocks: which target applies, when each clock falls due, and the sweep that escalates.

Three clocks per interaction. **First response** and **resolution** run from ``sla_started_at`` (queueing,
or reopening; a transfer or an overflow does not restart the customer's clock); **next response** runs
from ``next_response_from``, the customer's first reply still awaiting an answer. Each counts in the
policy's business-hours calendar (or calendar time) and, when the policy pauses on hold, leaves out the
time spent on hold. A clock stops when its step is done (first reply sent, reply answered, resolved);
at resolution every clock freezes: the due times stay as they were, for reports.

Due times are stored on the interaction, with ``sla_next_check_at``: the earliest moment a step of the
policy's escalation plan (a warning at a fraction of the target, the breach, steps after it) falls due
and has not been recorded. ``sla_refresh`` recomputes them on every relevant event (the lifecycle and
message services call it under their row lock); ``sla_recompute_open`` after a policy or calendar change.
``sla_sweep`` reads only rows whose ``sla_next_check_at`` has come (a partial index), records each step
once as an ``Escalation`` (``INSERT … ON CONFLICT DO NOTHING``; the unique constraint is the arbiter) and
runs the actions of the rows it inserted (``crm.services.sla_actions``).
"""

import logging
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone

from ..choices import OPEN_STATUSES, EscalationAction, InteractionStatus
from ..models import Escalation, Interaction, InteractionEvent, Queue, SLAPolicy, SLATarget
from .business_hours import Calendar, add_business_seconds, business_seconds_between, calendar_for

logger = logging.getLogger(__name__)

S = InteractionStatus
Target = Escalation.Target
FIRST, NEXT, RESOLUTION = Target.FIRST_RESPONSE, Target.NEXT_RESPONSE, Target.RESOLUTION
ACTIONS = tuple(EscalationAction.values)
MAX_STEPS = 20
SLA_FIELDS = (
    "first_response_due_at",
    "next_response_due_at",
    "resolution_due_at",
    "sla_paused_at",
    "sla_next_check_at",
)


@dataclass(slots=True)
class SweptRow:
    """What the sweep reads of an interaction it claimed: what planning needs and the breach webhooks send.

    Plain values, not a model instance: building 1,000 instances (and their queues) costs more than planning
    them. An action that needs the interaction itself loads it.
    """

    pk: int
    status: str
    channel: str
    priority: int
    created_at: datetime
    queued_at: datetime | None
    sla_started_at: datetime | None
    first_response_at: datetime | None
    next_response_from: datetime | None
    queue_id: int | None
    sla_policy_id: int | None
    agent_id: int | None
    customer_id: int
    first_response_due_at: datetime | None
    next_response_due_at: datetime | None
    resolution_due_at: datetime | None
    sla_paused_at: datetime | None
    sla_next_check_at: datetime | None


SWEPT_FIELDS = tuple(
    {"pk": "pk", "sla_policy_id": "queue__sla_policy_id"}.get(name, name) for name in SweptRow.__dataclass_fields__
)


# --- targets and escalation steps ------------------------------------------------------------------


def _rank_targets(candidates: Iterable[SLATarget], *, channel: str, priority: int) -> SLATarget | None:
    matching = [t for t in candidates if t.channel in (channel, "") and t.priority in (priority, None)]
    return max(matching, key=lambda t: (t.channel == channel, t.priority == priority), default=None)


def sla_target_for(*, queue: Queue | None, channel: str, priority: int) -> SLATarget | None:
    """The most specific target of the queue's active policy for this channel and priority.

    Specificity: channel and priority, then channel with any priority, then any channel with the
    priority, then any channel and any priority. No queue, no policy or an inactive one: no target.
    """
    if queue is None or queue.sla_policy_id is None:
        return None
    # at most four rows match; ranking them here is simpler than a CASE ordering and as cheap
    candidates = SLATarget.objects.select_related("policy__business_hours").filter(
        Q(priority=priority) | Q(priority__isnull=True),
        policy_id=queue.sla_policy_id,
        policy__is_active=True,
        channel__in=[channel, ""],
    )
    return _rank_targets(candidates, channel=channel, priority=priority)


def sla_check_escalation_steps(steps: Any) -> list[dict]:
    """Validate and normalise a policy's escalation steps; raise ``ValidationError`` with one message per fault.

    A step is ``{"target": "first_response"|"next_response"|"resolution", "action": "warn"|
    "notify_supervisors"|"raise_priority"|"move_to_queue", "at": fraction of the target (0 < at ≤ 1; 0.8 warns
    at 80 %, 1 is the breach itself)}`` or, instead of ``at``, ``"after_seconds"``: SLA seconds after the breach
    (≥ 0). ``move_to_queue`` needs ``"queue"``: the id of an active queue. Messages are prefixed by the step's
    position (``"Step 2: …"``), so the API can answer them as field messages of ``escalation_steps``.
    """
    if not isinstance(steps, list):
        raise ValidationError({"escalation_steps": "Give a list of steps."})
    if len(steps) > MAX_STEPS:
        raise ValidationError({"escalation_steps": f"At most {MAX_STEPS} steps."})
    errors: list[str] = []
    cleaned: list[dict] = []
    for n, step in enumerate(steps, start=1):
        fault = _step_fault(step)
        if fault:
            errors.append(f"Step {n}: {fault}")
            continue
        item = {"target": step["target"], "action": step["action"]}
        item |= {"at": float(step["at"])} if "at" in step else {"after_seconds": int(step["after_seconds"])}
        if step["action"] == "move_to_queue":
            item["queue"] = int(step["queue"])
        cleaned.append(item)
    queue_ids = {s["queue"] for s in cleaned if "queue" in s}
    known = set(Queue.objects.filter(pk__in=queue_ids, is_active=True).values_list("pk", flat=True))
    for n, step in enumerate(steps, start=1):
        if isinstance(step, dict) and step.get("action") == "move_to_queue" and _int(step.get("queue")) is not None:
            if int(step["queue"]) not in known:
                errors.append(f"Step {n}: queue {step['queue']} does not exist or is not active.")
    if errors:
        raise ValidationError({"escalation_steps": errors})
    return cleaned


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _step_fault(step: Any) -> str | None:
    if not isinstance(step, dict):
        return "a step is an object with target, action and at (or after_seconds)."
    unknown = set(step) - {"target", "action", "at", "after_seconds", "queue"}
    if unknown:
        return f"unknown field(s) {', '.join(sorted(map(str, unknown)))}."
    if step.get("target") not in Target.values:
        return f"target must be one of {', '.join(Target.values)}."
    if step.get("action") not in ACTIONS:
        return f"action must be one of {', '.join(ACTIONS)}."
    if ("at" in step) == ("after_seconds" in step):
        return "give exactly one of at (a fraction of the target) and after_seconds (after the breach)."
    if "at" in step:
        at = step["at"]
        if isinstance(at, bool) or not isinstance(at, int | float) or not (0 < at <= 1) or math.isnan(at):
            return "at is a fraction of the target, greater than 0 and at most 1 (0.8 = at 80 %)."
    elif _int(step["after_seconds"]) is None or not 0 <= step["after_seconds"] <= 2_147_483_647:
        return "after_seconds is a whole number of seconds after the breach, 0 or more."
    if step["action"] == "move_to_queue":
        if _int(step.get("queue")) is None:
            return "move_to_queue needs queue, the id of the queue to move to."
    elif "queue" in step:
        return "only move_to_queue takes a queue."
    return None


# --- the plan of one interaction -------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedStep:
    target: str
    clock_started_at: datetime
    step: int
    kind: str
    action: str
    due_at: datetime
    queue_id: int | None = None

    @property
    def signal_outcome(self) -> str:
        """The outcome of a step whose action is only a signal, known before it runs (saves an UPDATE per row)."""
        if self.step == 0:
            return "breach recorded"
        return "warning sent" if self.action == "warn" else ""


@dataclass
class Context:
    """What computing an interaction's plan reads besides the row: loaded one row at a time or in batches."""

    target: SLATarget | None
    recorded: set[tuple[str, datetime, int]] = field(default_factory=set)
    holds: list[tuple[datetime, datetime | None]] = field(default_factory=list)


def _due(calendar: Calendar | None, start: datetime, seconds: float, pauses: Sequence[tuple[datetime, datetime]]):
    """When ``seconds`` of running clock have passed since ``start``, leaving out the paused intervals.

    The pauses that fall before the answer push it later, which may bring more pauses in: repeat until
    the paused amount settles (a handful of rounds at most, pauses being few).
    """
    due = add_business_seconds(calendar, start, seconds)
    counted = 0.0
    while True:
        paused = sum(business_seconds_between(calendar, max(a, start), min(b, due)) for a, b in pauses)
        if paused <= counted + 1e-6:
            return due
        counted = paused
        due = add_business_seconds(calendar, start, seconds + paused)


def _closed_holds(holds: Sequence[tuple[datetime, datetime | None]], *, status: str, now: datetime):
    """Closed pause intervals; a hold still open ends now unless the interaction is still on hold."""
    out = []
    for a, b in holds:
        if b is None:
            if status == S.ON_HOLD:
                continue  # the current pause: due times stay as they were when it began
            b = now
        out.append((a, b))
    return out


def _plan(
    interaction: Interaction | SweptRow, ctx: Context, *, now: datetime
) -> tuple[dict[str, Any], list[PlannedStep]]:
    """The interaction's SLA field values and its escalation steps not recorded yet (in due order)."""
    i = interaction
    target = ctx.target
    values: dict[str, Any] = {"sla_paused_at": None, "sla_next_check_at": None}
    if i.status not in OPEN_STATUSES:
        return values, []  # frozen: the due times stay; nothing more falls due
    if target is None:
        return values | {"first_response_due_at": None, "next_response_due_at": None, "resolution_due_at": None}, []
    policy = target.policy
    calendar = calendar_for(policy.business_hours)
    paused = policy.pause_on_hold and i.status == S.ON_HOLD
    if paused:
        values["sla_paused_at"] = i.sla_paused_at or now
    pauses = _closed_holds(ctx.holds, status=i.status, now=now) if policy.pause_on_hold else []
    start = i.sla_started_at or i.queued_at or i.created_at

    clocks: list[tuple[str, datetime, int]] = []
    if i.first_response_at is None:
        values["first_response_due_at"] = _due(calendar, start, target.first_response_seconds, pauses)
        clocks.append((FIRST, start, target.first_response_seconds))
    if i.next_response_from is not None and target.next_response_seconds:
        values["next_response_due_at"] = _due(calendar, i.next_response_from, target.next_response_seconds, pauses)
        clocks.append((NEXT, i.next_response_from, target.next_response_seconds))
    else:
        values["next_response_due_at"] = None
    if target.resolution_seconds:
        values["resolution_due_at"] = _due(calendar, start, target.resolution_seconds, pauses)
        clocks.append((RESOLUTION, start, target.resolution_seconds))
    else:
        values["resolution_due_at"] = None

    pending: list[PlannedStep] = []
    for name, clock_start, seconds in clocks:
        breach_at = values[f"{name}_due_at"]
        if (name, clock_start, 0) not in ctx.recorded:
            pending.append(PlannedStep(name, clock_start, 0, Escalation.Kind.BREACH, "", breach_at))
        for n, step in enumerate(policy.escalation_steps or [], start=1):
            if step.get("target") != name or (name, clock_start, n) in ctx.recorded:
                continue
            if "at" in step:
                amount = math.ceil(seconds * float(step["at"]))
                kind = Escalation.Kind.WARN if amount < seconds else Escalation.Kind.BREACH
            else:
                amount, kind = seconds + int(step["after_seconds"]), Escalation.Kind.BREACH
            due = breach_at if amount == seconds else _due(calendar, clock_start, amount, pauses)
            pending.append(PlannedStep(name, clock_start, n, kind, step["action"], due, step.get("queue")))
    pending.sort(key=lambda p: (p.due_at, p.step))
    if pending and not paused:
        values["sla_next_check_at"] = pending[0].due_at
    return values, pending


def _any_id(model, column: str, ids: Iterable[int]) -> RawSQL:
    """``column = ANY(%s)``: many ids as one array parameter, for ``filter()``.

    ``column__in`` of 1,000 ids costs more to build than to run, and ``IN (SELECT unnest(…))`` leaves the
    planner guessing at the list's size (a sequential scan of escalations); ``= ANY`` is an index scan.
    """
    sql = f'"{model._meta.db_table}"."{column}" = ANY(%s::bigint[])'
    return RawSQL(sql, [list(ids)], output_field=BooleanField())  # noqa: S611  (the names are ours)


def _holds_by_interaction(ids: Iterable[int]) -> dict[int, list[tuple[datetime, datetime | None]]]:
    """On-hold intervals from the event log (the end is None while still on hold), per interaction."""
    holds: dict[int, list[tuple[datetime, datetime | None]]] = defaultdict(list)
    moves = (
        InteractionEvent.objects.filter(
            Q(to_status=S.ON_HOLD) | Q(from_status=S.ON_HOLD), _any_id(InteractionEvent, "interaction_id", ids)
        )
        .exclude(from_status=S.ON_HOLD, to_status=S.ON_HOLD)
        .order_by("interaction_id", "at", "id")
        .values_list("interaction_id", "to_status", "at")
    )
    for interaction_id, to_status, at in moves:
        runs = holds[interaction_id]
        if to_status == S.ON_HOLD:
            runs.append((at, None))
        elif runs and runs[-1][1] is None:
            runs[-1] = (runs[-1][0], at)
    return holds


def _recorded_by_interaction(ids: Iterable[int]) -> dict[int, set[tuple[str, datetime, int]]]:
    recorded: dict[int, set[tuple[str, datetime, int]]] = defaultdict(set)
    rows = (
        Escalation.objects.filter(_any_id(Escalation, "interaction_id", ids))
        .order_by()
        .values_list("interaction_id", "target", "clock_started_at", "step")
    )
    for interaction_id, target, started, step in rows:
        recorded[interaction_id].add((target, started, step))
    return recorded


def _contexts(interactions: Sequence[Interaction] | Sequence[SweptRow]) -> dict[int, Context]:
    """Contexts for many interactions in three queries (targets, recorded steps, holds)."""
    policy_ids = {_policy_id(i) for i in interactions} - {None}
    targets: dict[int, list[SLATarget]] = defaultdict(list)
    for t in SLATarget.objects.select_related("policy__business_hours").filter(
        policy_id__in=policy_ids, policy__is_active=True
    ):
        targets[t.policy_id].append(t)
    recorded = _recorded_by_interaction([i.pk for i in interactions])
    pausing_policies = {t.policy_id for ts in targets.values() for t in ts if t.policy.pause_on_hold}
    pausing = [i.pk for i in interactions if _policy_id(i) in pausing_policies]
    holds = _holds_by_interaction(pausing) if pausing else {}
    ranked: dict[tuple[int | None, str, int], SLATarget | None] = {}
    for i in interactions:
        key = (_policy_id(i), i.channel, i.priority)
        if key not in ranked:  # a few combinations among many rows
            ranked[key] = _rank_targets(targets.get(key[0], []), channel=i.channel, priority=i.priority)
    return {
        i.pk: Context(
            target=ranked[(_policy_id(i), i.channel, i.priority)],
            recorded=recorded.get(i.pk, set()),
            holds=holds.get(i.pk, []),
        )
        for i in interactions
    }


def _policy_id(interaction: Interaction | SweptRow) -> int | None:
    if isinstance(interaction, SweptRow):
        return interaction.sla_policy_id
    return interaction.queue.sla_policy_id if interaction.queue is not None else None


def sla_refresh(*, interaction: Interaction, now: datetime) -> list[str]:
    """Recompute the SLA fields of an interaction the caller holds locked; returns the fields set (to save).

    Called by the lifecycle and message services on every event that moves a clock. An interaction
    without a policy and without due times costs no query.
    """
    i = interaction
    if i.status in OPEN_STATUSES and _policy_id(i) is None and not any(getattr(i, f) for f in SLA_FIELDS):
        return []
    target = sla_target_for(queue=i.queue, channel=i.channel, priority=i.priority) if i.is_open else None
    ctx = Context(target=target)
    if i.pk is not None and target is not None:
        ctx.recorded = _recorded_by_interaction([i.pk]).get(i.pk, set())
        if target.policy.pause_on_hold:
            ctx.holds = _holds_by_interaction([i.pk]).get(i.pk, [])
    values, _ = _plan(i, ctx, now=now)
    for name, value in values.items():
        setattr(i, name, value)
    return list(values)


def sla_due_times(*, interaction: Interaction) -> tuple[datetime | None, datetime | None]:
    """``(first_response_due_at, resolution_due_at)`` as ``sla_refresh`` would set them now."""
    target = sla_target_for(queue=interaction.queue, channel=interaction.channel, priority=interaction.priority)
    values, _ = _plan(interaction, Context(target=target), now=timezone.now())
    return values.get("first_response_due_at"), values.get("resolution_due_at")


# --- recomputing after a change of configuration -----------------------------------------------------


def sla_recompute_open(
    *,
    policy_ids: Iterable[int] = (),
    calendar_ids: Iterable[int] = (),
    queue_ids: Iterable[int] = (),
    batch_size: int = 500,
) -> int:
    """Recompute the SLA fields of the open interactions under the given policies, calendars or queues.

    In batches of ``batch_size`` by id, each in its own short transaction under row locks taken in id
    order (no deadlock with the lifecycle, which locks one row). Returns how many rows changed.
    """
    scope = (
        Q(queue__sla_policy_id__in=list(policy_ids))
        | Q(queue__sla_policy__business_hours_id__in=list(calendar_ids))
        | Q(queue_id__in=list(queue_ids))
    )
    changed, last_id = 0, 0
    now = timezone.now()
    while True:
        with transaction.atomic():
            rows = list(
                Interaction.objects.filter(scope, status__in=sorted(OPEN_STATUSES), pk__gt=last_id)
                .select_related("queue")
                .select_for_update(of=("self",))
                .order_by("pk")[:batch_size]
            )
            if not rows:
                return changed
            last_id = rows[-1].pk
            contexts = _contexts(rows)
            dirty = []
            for row in rows:
                values, _ = _plan(row, contexts[row.pk], now=now)
                if any(getattr(row, k) != v for k, v in values.items()):
                    for k, v in values.items():
                        setattr(row, k, v)
                    dirty.append(row)
            _write_plans(dirty)
            changed += len(dirty)


def _write_plans(rows: Sequence[Interaction] | Sequence[SweptRow], fields: Iterable[str] = SLA_FIELDS) -> None:
    """Save SLA fields of many rows in one ``UPDATE … FROM unnest(arrays)``.

    ``bulk_update``'s CASE per row costs seconds per 1,000. ``fields`` (of ``SLA_FIELDS``): only those the caller
    changed, since each column is an array of 1,000 timestamps to send.
    """
    fields = [name for name in SLA_FIELDS if name in fields]  # the statement names only these constants
    if not rows or not fields:
        return
    assignments, arrays = ", ".join(f"{name} = v.{name}" for name in fields), ", %s::timestamptz[]" * len(fields)
    sql = f"UPDATE crm_interaction AS i SET {assignments} FROM unnest(%s::bigint[]{arrays}) AS v(id, {', '.join(fields)}) WHERE i.id = v.id"  # noqa: S608, E501  (column names are ours)
    columns = [[row.pk for row in rows]] + [[getattr(row, name) for row in rows] for name in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, columns)


def sla_request_recompute(*, policy_ids=(), calendar_ids=(), queue_ids=()) -> None:
    """Ask a worker to recompute the affected open interactions once the current transaction commits."""
    from ..tasks import sla_recompute_task  # the tasks import this module

    kwargs = {"policy_ids": list(policy_ids), "calendar_ids": list(calendar_ids), "queue_ids": list(queue_ids)}

    def publish() -> None:
        try:
            sla_recompute_task.apply_async(kwargs=kwargs, retry_policy={"max_retries": 1})
        except Exception:
            # the configuration change is committed; the interactions catch up on their next event
            logger.exception("sla: could not request a recomputation of %s", kwargs)

    transaction.on_commit(publish)


# --- state for display -------------------------------------------------------------------------------


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


# --- the sweep -----------------------------------------------------------------------------------------

_INSERT = """
INSERT INTO crm_escalation
    (interaction_id, target, clock_started_at, step, kind, action, due_at, created_at, outcome)
SELECT i, t, c, s, k, a, d, %s, o FROM unnest(%s::bigint[], %s::varchar[], %s::timestamptz[], %s::smallint[],
                                           %s::varchar[], %s::varchar[], %s::timestamptz[], %s::varchar[])
                                    AS v(i, t, c, s, k, a, d, o)
ON CONFLICT ON CONSTRAINT escalation_once DO NOTHING
RETURNING id, interaction_id, target, step
"""


def _record(steps: list[tuple[int, PlannedStep]], *, now: datetime) -> dict[tuple[int, str, int], int]:
    """Insert the steps; those already recorded are skipped by the database.

    Returns what this call inserted: ``{(interaction id, target, step): escalation id}``.
    """
    if not steps:
        return {}
    columns = [
        now,  # created_at: one value for all
        [i for i, _ in steps],
        [p.target for _, p in steps],
        [p.clock_started_at for _, p in steps],
        [p.step for _, p in steps],
        [p.kind for _, p in steps],
        [p.action for _, p in steps],
        [p.due_at for _, p in steps],
        [p.signal_outcome for _, p in steps],
    ]
    with connection.cursor() as cursor:
        cursor.execute(_INSERT, columns)
        return {(row[1], row[2], row[3]): row[0] for row in cursor.fetchall()}


def sla_sweep(*, now: datetime | None = None, limit: int = 500) -> int:
    """Record and act on every escalation step that has fallen due; returns how many steps were recorded.

    Rows are claimed with ``FOR UPDATE SKIP LOCKED`` (a row another sweep holds is its business) and
    re-planned under the lock; the unique constraint makes a step that two sweeps both saw happen once,
    and only the sweep whose INSERT returned the row runs its action. Each row's ``sla_next_check_at``
    moves on to its next pending step (null when none is left).
    """
    from .sla_actions import sla_breach_webhooks, sla_run_action, sla_send_signals  # the actions use the lifecycle

    now = now or timezone.now()
    with transaction.atomic():
        # claimed and read in one statement (the locked rows as they are now)
        rows = [
            SweptRow(*values)
            for values in Interaction.objects.filter(sla_next_check_at__lte=now)
            .order_by("sla_next_check_at")
            .select_for_update(skip_locked=True, of=("self",))
            .values_list(*SWEPT_FIELDS)[:limit]
        ]
        if not rows:
            return 0
        contexts = _contexts(rows)
        due: list[tuple[int, PlannedStep]] = []
        changed: list[SweptRow] = []
        changed_fields: set[str] = set()
        for row in rows:
            values, pending = _plan(row, contexts[row.pk], now=now)
            # pending is in due order: what has come is recorded now, the first step still ahead is the next check
            ahead = next((n for n, step in enumerate(pending) if step.due_at > now), len(pending))
            due += [(row.pk, step) for step in pending[:ahead]]
            if values["sla_next_check_at"] is not None:
                values["sla_next_check_at"] = pending[ahead].due_at if ahead < len(pending) else None
            # the whole plan is written back (only for rows it changes), so a row read here is also brought in
            # step with its policy
            differ = [name for name, value in values.items() if getattr(row, name) != value]
            if differ:
                for name, value in values.items():
                    setattr(row, name, value)
                changed.append(row)
                changed_fields.update(differ)
        inserted = _record(due, now=now)
        _write_plans(changed, changed_fields)
        by_pk = {row.pk: row for row in rows}
        # only the steps this sweep inserted: the others were recorded (and are acted on) by another sweep
        ours = [(inserted[key], key[0], step) for i, step in due if (key := (i, step.target, step.step)) in inserted]
        acting = {i for _, i, step in ours if not step.signal_outcome}
        interactions = Interaction.objects.select_related("queue").in_bulk(acting) if acting else {}
        signals, breaches = [], []
        for escalation_id, interaction_id, step in ours:
            if step.signal_outcome:
                signals.append((escalation_id, interaction_id, step))
            else:
                sla_run_action(escalation_id=escalation_id, interaction=interactions[interaction_id], step=step)
            if step.step == 0:
                breaches.append((escalation_id, by_pk[interaction_id], step))
        sla_send_signals(signals)
        sla_breach_webhooks(breaches)
    if inserted:
        logger.info("sla: recorded %d escalation step(s)", len(inserted))
    return len(inserted)


def policy_ids_using_calendar(*, calendar_id: int) -> list[int]:
    return list(SLAPolicy.objects.filter(business_hours_id=calendar_id).values_list("pk", flat=True))
