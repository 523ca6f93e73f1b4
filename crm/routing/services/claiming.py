"""The router's claim of waiting work: the first interactions in serving order that no other router holds, locked.

Serving order: the queue's priority, then the interaction's priority plus one step per ageing period waited
(``SWITCHBOARD_ROUTING_AGEING_MINUTES``), highest first, then the oldest. Priority plus ageing, highest first,
orders as "queued at, moved earlier by one ageing period per priority step", earliest first: p + (now - t) / A
orders like t - p * A, which needs no clock, so PostgreSQL compares plain timestamps.

Raw SQL with its fixed values written into the text (``_constants``): the ORM took longer to build these
statements than PostgreSQL to run them, and a statement with no parameter left is prepared once per connection.
"""

from contextlib import nullcontext

from django.conf import settings
from django.db import connection

from config.prepared import prepared
from config.raw_rows import RawRows
from crm.choices import InteractionStatus, Priority
from crm.interactions.models import Interaction

from ..models import Queue, QueueSkill
from .planner import Run

S = InteractionStatus

# A claim of a few interactions reads the head of each (queue, priority) run through the ``interaction_routing``
# index (queued_at order) and merges them, instead of sorting all the waiting work: one decision stays cheap
# however long the queues are. Each run gives its first ``HEAD_FACTOR * size`` rows, so that many routers
# at once still find unlocked work among them.
HEAD_FACTOR = 4
HEAD_MAX = 32
_HEAD_SQL = """
    SELECT i.id
    FROM {queue} q
    CROSS JOIN unnest(ARRAY[{priorities}]::smallint[]) AS p(priority)
    CROSS JOIN LATERAL (
        (SELECT i.id, i.queued_at, i.queued_at AS t, i.priority FROM {interaction} i
         WHERE i.queue_id = q.id AND i.status = '{queued}' AND i.priority = p.priority AND i.queued_at IS NOT NULL
         {filters}
         ORDER BY i.queued_at, i.id LIMIT {n})
        UNION ALL
        (SELECT i.id, i.queued_at, i.created_at AS t, i.priority FROM {interaction} i
         WHERE i.queue_id = q.id AND i.status = '{queued}' AND i.priority = p.priority AND i.queued_at IS NULL
         {filters})
    ) i
    ORDER BY q.priority DESC, i.t - i.priority * interval '{ageing_minutes} minutes', i.queued_at, i.id
    LIMIT {n}
"""


def _constants(size: int) -> dict:
    """The head's and the claim's fixed values, written into the SQL text (from code and settings only, numbers and
    a status name): with no parameter left, the usual claim is prepared once per connection and keeps its plan
    (``config.prepared.prepared``: the planning was a third of its cost)."""
    return {
        "priorities": ",".join(str(int(priority)) for priority in sorted(Priority.values)),
        "queued": S.QUEUED.value,  # a name of our own: no quote in it
        "n": int(HEAD_FACTOR * size),
        "size": int(size),
        "ageing_minutes": int(settings.SWITCHBOARD_ROUTING_AGEING_MINUTES),
    }


def _filters(*, queue: Queue | None, run: Run) -> tuple[str, dict]:
    """The conditions on waiting work beyond its status (the run's skipped and unroutable work, the one queue) and
    their parameters."""
    filters = ""
    params: dict = {}
    if run.skipped:
        filters += " AND NOT (i.id = ANY(%(skipped)s))"
        params["skipped"] = sorted(run.skipped)
    if run.unroutable:
        filters += " AND (i.queue_id, i.channel) NOT IN (SELECT * FROM unnest(%(uq)s::bigint[], %(uc)s::text[]))"
        params["uq"], params["uc"] = (list(column) for column in zip(*sorted(run.unroutable), strict=True))
    if queue is not None:
        filters += " AND i.queue_id = %(queue)s"
        params["queue"] = queue.pk
    return filters, params


def _head_query(*, size: int, queue: Queue | None, run: Run) -> tuple[str, dict]:
    filters, params = _filters(queue=queue, run=run)
    query = _HEAD_SQL.format(
        queue=Queue._meta.db_table, interaction=Interaction._meta.db_table, filters=filters, **_constants(size)
    )
    return query, params


def _rows(query: str, params: dict) -> list[tuple]:
    """The rows of one of these statements: prepared once per connection when it has no parameter (the usual
    claim), else sent as Django sends any statement (the run's skipped or unroutable work, one queue)."""
    with prepared() if not params else nullcontext(), connection.cursor() as cursor:
        cursor.execute(query, params or None)
        return cursor.fetchall()


def _head(*, size: int, queue: Queue | None, run: Run) -> list[int]:
    """Ids of the first waiting interactions in serving order (read without locks; the claim re-checks)."""
    return [row[0] for row in _rows(*_head_query(size=size, queue=queue, run=run))]


# The head and its claim in one statement: the rows of the head still queued, locked unless another router holds
# them, in the head's order, each with the skills its queue requires (``Run.load_skills`` then asks nothing).
# Raw: the ORM took longer to build the claim than PostgreSQL to run it; the rows become instances through
# ``config.raw_rows`` (``raw()`` worked out which column is which on every call).
_CLAIM_SQL = """
    SELECT {columns},
           (SELECT array_agg(s.skill_id ORDER BY s.skill_id) FROM {queueskill} s WHERE s.queue_id = i.queue_id)
               AS routing_skill_ids,
           (SELECT array_agg(s.min_level ORDER BY s.skill_id) FROM {queueskill} s WHERE s.queue_id = i.queue_id)
               AS routing_min_levels
    FROM unnest(ARRAY({head})) WITH ORDINALITY AS h(id, position)
    JOIN {interaction} i ON i.id = h.id
    WHERE i.status = '{queued}'
    ORDER BY h.position
    LIMIT {size}
    FOR UPDATE OF i SKIP LOCKED
"""
_CLAIMED = RawRows(Interaction, table_alias="i", extra=("routing_skill_ids", "routing_min_levels"))


def claim(*, size: int, queue: Queue | None, run: Run) -> tuple[list[Interaction], bool]:
    """Lock the first ``size`` waiting interactions no other router holds, in serving order.

    Returns (claimed interactions, whether any work is waiting at all). Waiting work all held by other
    routers is marked skipped for this run, so the next claim looks past it.
    """
    if HEAD_FACTOR * size > HEAD_MAX:  # a big batch: one sort of the waiting work costs less than many heads
        return _claim_sorted(size=size, queue=queue, run=run)
    head, params = _head_query(size=size, queue=queue, run=run)
    query = _CLAIM_SQL.format(
        columns=_CLAIMED.columns,
        head=head,
        interaction=Interaction._meta.db_table,
        queueskill=QueueSkill._meta.db_table,
        **_constants(size),
    )
    claimed = _CLAIMED.instances(_rows(query, params), using=connection.alias)
    if claimed:
        return claimed, True
    # nothing claimed: nothing waiting, or all of the head held by other routers (look past it next time)
    head_ids = _head(size=size, queue=queue, run=run)
    run.skipped.update(head_ids)
    return [], bool(head_ids)


# A big batch (``route_pending``): the first ``HEAD_FACTOR * size`` ids by one top-N sort of the waiting work's
# narrow rows, then those rows, by primary key, locked in the same order (locking needs the rows it sorts whole: no
# top-N sort under FOR UPDATE). When other routers hold most of them, the same claim over all the waiting work.
# The serving order over ``i`` (an interaction) joined to ``q`` (its queue), as the head merges its runs.
_SERVING_ORDER = (
    "q.priority DESC, COALESCE(i.queued_at, i.created_at) - i.priority * interval '{ageing_minutes} minutes',"
    " i.queued_at, i.id"
)
_SORTED_SQL = """
    SELECT {columns}
    FROM {interaction} i JOIN {queue} q ON q.id = i.queue_id
    WHERE i.status = '{queued}' {filters} {first}
    ORDER BY {order}
    LIMIT {size}
    FOR UPDATE OF i SKIP LOCKED
"""
_FIRST_SQL = """
    AND i.id = ANY(ARRAY(
        SELECT i.id FROM {interaction} i JOIN {queue} q ON q.id = i.queue_id
        WHERE i.status = '{queued}' {filters}
        ORDER BY {order}
        LIMIT {n}))
"""
_SORTED = RawRows(Interaction, table_alias="i")


def _claim_sorted(*, size: int, queue: Queue | None, run: Run) -> tuple[list[Interaction], bool]:
    """``claim`` for a big batch: among the first ``HEAD_FACTOR * size`` ids, else among all the waiting work."""
    filters, params = _filters(queue=queue, run=run)
    constants = _constants(size)
    tables = {"interaction": Interaction._meta.db_table, "queue": Queue._meta.db_table, **constants}
    tables["order"] = _SERVING_ORDER.format(**constants)
    first = _FIRST_SQL.format(filters=filters, **tables)
    claimed: list[Interaction] = []
    for restriction in (first, ""):
        query = _SORTED_SQL.format(columns=_SORTED.columns, filters=filters, first=restriction, **tables)
        claimed = _SORTED.instances(_rows(query, params), using=connection.alias)
        if len(claimed) == size:
            break
    return claimed, bool(claimed)
