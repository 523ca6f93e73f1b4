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
runs the actions of the rows it inserted (``crm.sla.services.actions``). The sweep is in ``sweep``, the
validation of escalation steps in ``steps``, the display state in ``state``.
"""

import logging
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone

from config.tasks import task_named
from crm.choices import OPEN_STATUSES, InteractionStatus, SLAClock
from crm.interactions.models import SLA_FIELDS, Interaction, InteractionEvent

from ..models import Escalation, SLATarget
from .business_hours import Calendar, add_business_seconds, business_seconds_between, calendar_for
from .targets import rank_targets, sla_target_for

logger = logging.getLogger(__name__)

S = InteractionStatus
Target = SLAClock
FIRST, NEXT, RESOLUTION = Target.FIRST_RESPONSE, Target.NEXT_RESPONSE, Target.RESOLUTION
SLA_RECOMPUTE_TASK = "crm.tasks.sla_recompute_task"


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


def plan_interaction(
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


def plan_contexts(interactions: Sequence[Interaction] | Sequence[SweptRow]) -> dict[int, Context]:
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
            ranked[key] = rank_targets(targets.get(key[0], []), channel=i.channel, priority=i.priority)
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
    values, _ = plan_interaction(i, ctx, now=now)
    for name, value in values.items():
        setattr(i, name, value)
    return list(values)


def sla_due_times(*, interaction: Interaction) -> tuple[datetime | None, datetime | None]:
    """``(first_response_due_at, resolution_due_at)`` as ``sla_refresh`` would set them now."""
    target = sla_target_for(queue=interaction.queue, channel=interaction.channel, priority=interaction.priority)
    values, _ = plan_interaction(interaction, Context(target=target), now=timezone.now())
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
            contexts = plan_contexts(rows)
            dirty = []
            for row in rows:
                values, _ = plan_interaction(row, contexts[row.pk], now=now)
                if any(getattr(row, k) != v for k, v in values.items()):
                    for k, v in values.items():
                        setattr(row, k, v)
                    dirty.append(row)
            write_plans(dirty)
            changed += len(dirty)


def write_plans(rows: Sequence[Interaction] | Sequence[SweptRow], fields: Iterable[str] = SLA_FIELDS) -> None:
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
    kwargs = {"policy_ids": list(policy_ids), "calendar_ids": list(calendar_ids), "queue_ids": list(queue_ids)}

    def publish() -> None:
        try:
            task_named(SLA_RECOMPUTE_TASK).apply_async(kwargs=kwargs, retry_policy={"max_retries": 1})
        except Exception:
            # the configuration change is committed; the interactions catch up on their next event
            logger.exception("sla: could not request a recomputation of %s", kwargs)

    transaction.on_commit(publish)
