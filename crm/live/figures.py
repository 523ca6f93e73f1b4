"""Figures of open work shared by the consoles' and wallboards' snapshots and events: which statuses count, and the
split of the queue figures by inbox (the address, number or site the work came in by)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from crm.choices import InteractionStatus
from crm.inboxes.models import Inbox
from crm.interactions.models import Interaction
from crm.routing.models import Queue

S = InteractionStatus
WORKING = (S.ACTIVE, S.ON_HOLD, S.WRAP_UP)
IN_QUEUE_FIGURES = (S.QUEUED, S.ASSIGNED, *WORKING)


_INBOX_STATS_SQL = """
    SELECT b.id, b.name, b.channel, q.team_id,
        count(i.id) FILTER (WHERE i.status = %(queued)s),
        min(i.queued_at) FILTER (WHERE i.status = %(queued)s),
        count(i.id) FILTER (WHERE i.status = %(assigned)s),
        count(i.id) FILTER (WHERE i.status = ANY(%(working)s))
    FROM {inbox} b
    JOIN {queue} q ON q.id = b.queue_id
    LEFT JOIN {interaction} i ON i.inbox_id = b.id AND i.status = ANY(%(open)s)
    WHERE b.is_active {filters}
    GROUP BY b.id, q.team_id
    ORDER BY b.id
"""


def open_work_query(
    sql: str, *, ids_column: str, ids: Iterable[int] | None, team_ids: Iterable[int] | None, tables: dict[str, str]
) -> tuple[list[tuple], Any]:
    """Run one of the open-work aggregates (queues', inboxes'), narrowed to ``ids`` and ``team_ids``; its rows, and
    a function turning the oldest queued time into seconds waited (now, for all rows alike)."""
    params: dict[str, Any] = {
        "queued": S.QUEUED,
        "assigned": S.ASSIGNED,
        "working": list(WORKING),
        "open": list(IN_QUEUE_FIGURES),
    }
    filters = ""
    if ids is not None:
        filters += f" AND {ids_column} = ANY(%(ids)s)"
        params["ids"] = list(ids)
    if team_ids is not None:
        filters += " AND q.team_id = ANY(%(team_ids)s)"
        params["team_ids"] = list(team_ids)
    with connection.cursor() as cursor:
        cursor.execute(sql.format(**tables, filters=filters), params)
        rows = cursor.fetchall()
    now = timezone.now()
    return rows, lambda oldest: max(0, round((now - oldest).total_seconds())) if oldest else None


def live_inbox_stats(*, inbox_ids: Iterable[int] | None = None, team_ids: Iterable[int] | None = None) -> list[dict]:
    """The queue figures split by the inbox the work came in by (``{"id", "name", "channel", "team", "waiting",
    "oldest_waiting_seconds", "assigned", "active"}``), for the given inboxes or the inboxes feeding the given
    teams' queues (neither: all active ones); one query. ``team`` is the team of the inbox's queue."""
    tables = {"inbox": Inbox._meta.db_table, "queue": Queue._meta.db_table, "interaction": Interaction._meta.db_table}
    rows, waited = open_work_query(_INBOX_STATS_SQL, ids_column="b.id", ids=inbox_ids, team_ids=team_ids, tables=tables)
    return [
        {
            "id": pk,
            "name": name,
            "channel": channel,
            "team": team_id,
            "waiting": waiting,
            "oldest_waiting_seconds": waited(oldest),
            "assigned": assigned,
            "active": active,
        }
        for pk, name, channel, team_id, waiting, oldest, assigned, active in rows
    ]


def inboxes_behind_queues(queue_ids: Iterable[int]) -> set[int]:
    """The inboxes whose figures a change in these queues may move: those feeding them, and those of their open work
    (transferred there from another inbox's queue); one query."""
    ids = list(queue_ids)
    working = Interaction.objects.filter(queue_id__in=ids, status__in=list(IN_QUEUE_FIGURES), inbox__isnull=False)
    return set(
        Inbox.objects.filter(Q(queue_id__in=ids) | Q(pk__in=working.values("inbox_id"))).values_list("pk", flat=True)
    )
