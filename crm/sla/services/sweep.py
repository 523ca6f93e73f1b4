"""The SLA sweep: record every escalation step that has fallen due, once, and run its action.

Celery beat runs it every few seconds (``crm.sla.tasks.sla_sweep_task``). It reads only rows whose
``sla_next_check_at`` has come (a partial index), so its cost follows what is due, not what is open.
"""

import logging
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from crm.interactions.models import Interaction

from .actions import sla_breach_webhooks, sla_run_action, sla_send_signals
from .engine import SWEPT_FIELDS, PlannedStep, SweptRow, plan_contexts, plan_interaction, write_plans

logger = logging.getLogger(__name__)

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
        contexts = plan_contexts(rows)
        due: list[tuple[int, PlannedStep]] = []
        changed: list[SweptRow] = []
        changed_fields: set[str] = set()
        for row in rows:
            values, pending = plan_interaction(row, contexts[row.pk], now=now)
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
        write_plans(changed, changed_fields)
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
