"""Giving queued work to an agent: one (``interaction_assign``) or a router's batch (``interaction_assign_many``)."""

from collections.abc import Sequence
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext

from agents.models import Agent
from config.errors import DomainError
from config.raw_rows import RawRows
from config.rows import rows_insert_sql, rows_saved
from crm.choices import InteractionEventKind, InteractionStatus

from ..hooks import Move, run_events_logged, run_interaction_saving
from ..models import Assignment, Interaction, InteractionEvent
from .eventlog import announce_batch, log_event, new_event
from .lifecycle import interaction_accept
from .transitions import illegal, sync

S = InteractionStatus
Queue = Interaction._meta.get_field("queue").related_model  # routing's, without importing a higher layer
Kind = InteractionEventKind


def interaction_assign(*, interaction: Interaction, agent: Agent, actor=None) -> Interaction:
    """Give queued work to ``agent``. Compare-and-set on the status, so of two concurrent assigners one wins.

    The losing caller (or any caller when the interaction is no longer queued) gets ``IllegalTransition``.
    The winner opens the interaction's ``Assignment``. In a queue with ``auto_accept`` nobody has to pick
    the work up (e.g. email), so it is accepted in the same transaction (``accepted`` event, no actor).
    """
    if not agent.is_active:
        raise DomainError(gettext("Agent %(pk)s is not active; work cannot be assigned to them.") % {"pk": agent.pk})
    with transaction.atomic():
        now = timezone.now()
        # no SELECT ... FOR UPDATE first: the conditional UPDATE is the lock and the check in one statement
        claimed = Interaction.objects.filter(pk=interaction.pk, status=S.QUEUED).update(
            status=S.ASSIGNED, agent=agent, assigned_at=now, updated_at=now
        )
        if not claimed:
            status = Interaction.objects.filter(pk=interaction.pk).values_list("status", flat=True).first()
            if status is None:
                raise Interaction.DoesNotExist(f"Interaction {interaction.pk} does not exist.")
            raise illegal(interaction.pk, status, "assigned")
        assigned = Interaction.objects.select_related("queue").get(pk=interaction.pk)
        assigned.agent = agent  # the caller's instance: no query when the agent is read below or by _sync
        Assignment.objects.create(interaction_id=assigned.pk, agent_id=agent.pk, offered_at=now)
        log_event(
            interaction=assigned,
            kind=Kind.ASSIGNED,
            from_status=S.QUEUED,
            to_status=S.ASSIGNED,
            actor=actor,
            agent_id=agent.pk,
            at=now,
        )
        if assigned.queue is not None and assigned.queue.auto_accept:
            assigned = interaction_accept(interaction=assigned)
    sync(
        target=interaction,
        source=assigned,
        fields=["status", "agent", "assigned_at", "accepted_at", "talk_seconds", "updated_at"],
    )
    return assigned


# One row per (interaction, agent, time); the status condition is the compare-and-set of every pair at once.
# The rows come back as assigned (no second read), each with whether its queue accepts work by itself.
_ASSIGN_MANY_SQL = """
    UPDATE {interaction} i
    SET status = %(assigned)s, agent_id = v.agent_id, assigned_at = v.at, updated_at = v.at
    FROM unnest(%(ids)s::bigint[], %(agents)s::bigint[], %(ats)s::timestamptz[]) AS v(id, agent_id, at)
    WHERE i.id = v.id AND i.status = %(queued)s
    RETURNING {columns}, (SELECT q.auto_accept FROM {queue} q WHERE q.id = i.queue_id) AS queue_auto_accept
"""
_ASSIGNED = RawRows(Interaction, table_alias="i", extra=("queue_auto_accept",))  # config.raw_rows: no raw() set-up


def interaction_assign_many(
    *,
    pairs: Sequence[tuple[Interaction, Agent]],
    actor=None,
) -> list[Interaction]:
    """``interaction_assign`` for many (interaction, agent) pairs in one transaction: a router's batch.

    The same steps and the same rows as one ``interaction_assign`` after another (ownership history, the
    ``assigned`` event and, in ``auto_accept`` queues, the ``accepted`` one, the webhook outbox, one
    ``interaction_changed`` per event on commit), in a fixed number of statements instead of about seven per
    interaction. The compare-and-set covers every pair in one UPDATE: an interaction no longer queued (another
    assigner won it) is left out of the result instead of raising, since the others are still good to assign.
    The pairs are stamped one microsecond apart in the given order, as one assignment after another would be,
    so "idle since the last assignment" ranks the agents as the router planned. The ``interaction_changed``
    signals carry ``batch`` (every change of the commit, in order) and ``batch_index``, so a receiver may handle
    them together (``crm.live`` publishes them with one read). Returns the assigned interactions in the
    given order; the given instances are refreshed as by the single path. A router checks the agents' loads under
    their locks before it calls this (``agents.AgentRouting``, which the database keeps in this UPDATE's statement).
    """
    if not pairs:
        return []
    for _, agent in pairs:
        if not agent.is_active:
            raise DomainError(
                gettext("Agent %(pk)s is not active; work cannot be assigned to them.") % {"pk": agent.pk}
            )
    ids = [interaction.pk for interaction, _ in pairs]
    if len(set(ids)) != len(ids):
        raise ValueError("An interaction can be assigned once per call.")
    # no savepoint inside a caller's transaction (the router's): two round trips fewer per batch; an error
    # here fails the caller's whole transaction, as the router wants (its claim and locks go with it)
    with transaction.atomic(savepoint=False):
        start = timezone.now()
        ats = [start + timedelta(microseconds=index) for index in range(len(pairs))]
        at_of = dict(zip(ids, ats, strict=True))
        params = {
            "assigned": S.ASSIGNED,
            "queued": S.QUEUED,
            "ats": ats,
            "ids": ids,
            "agents": [agent.pk for _, agent in pairs],
        }
        query = _ASSIGN_MANY_SQL.format(
            columns=_ASSIGNED.columns, interaction=Interaction._meta.db_table, queue=Queue._meta.db_table
        )
        with connection.cursor() as cursor:
            cursor.execute(query, params)
            rows = {row.pk: row for row in _ASSIGNED.instances(cursor.fetchall(), using=connection.alias)}
        if not rows:
            return []
        winners: list[tuple[Interaction, Interaction, Agent]] = []
        for interaction, agent in pairs:
            if interaction.pk in rows:
                assigned = rows[interaction.pk]
                assigned.agent = agent  # the caller's instance: no query when the agent is read later
                winners.append((interaction, assigned, agent))
        accepting = [a for _, a, _ in winners if a.queue_auto_accept]
        if accepting:  # their queues, as the single path reads them (accepting may start SLA clocks)
            queues = Queue.objects.in_bulk({a.queue_id for a in accepting})
            for assigned in accepting:
                assigned.queue = queues[assigned.queue_id]
        fields = ["status", "accepted_at", "updated_at"]
        for assigned in accepting:
            # the row is locked by the UPDATE above, so the accept needs no lock of its own; as in a transition,
            # accepting may start SLA clocks
            now = at_of[assigned.pk]
            assigned.status, assigned.accepted_at = S.ACTIVE, now
            fields += run_interaction_saving(
                interaction=assigned,
                move=Move(
                    kind=Kind.ACCEPTED,
                    from_status=S.ASSIGNED,
                    to_status=S.ACTIVE,
                    changed=frozenset({"status", "accepted_at"}),
                    now=now,
                ),
            )
        if accepting:
            Interaction.objects.bulk_update(accepting, fields=list(dict.fromkeys(fields)))
        history = [
            Assignment(
                interaction_id=assigned.pk,
                agent_id=agent.pk,
                offered_at=at_of[assigned.pk],
                accepted_at=at_of[assigned.pk] if assigned.status == S.ACTIVE else None,
            )
            for _, assigned, agent in winners
        ]
        events = []
        for _, assigned, agent in winners:
            events.append(
                new_event(
                    interaction=assigned,
                    kind=Kind.ASSIGNED,
                    from_status=S.QUEUED,
                    to_status=S.ASSIGNED,
                    actor=actor,
                    agent_id=agent.pk,
                    at=at_of[assigned.pk],
                )
            )
            if assigned.status == S.ACTIVE:
                events.append(
                    new_event(
                        interaction=assigned,
                        kind=Kind.ACCEPTED,
                        from_status=S.ASSIGNED,
                        to_status=S.ACTIVE,
                        agent_id=agent.pk,
                        at=at_of[assigned.pk],
                    )
                )
        saved = _insert_history_and_events(history, events)
        run_events_logged(events=saved)
        announce_batch(saved)
    for interaction, assigned, _ in winners:
        sync(
            target=interaction,
            source=assigned,
            fields=["status", "agent", "assigned_at", "accepted_at", "talk_seconds", "updated_at"],
        )
    return [assigned for _, assigned, _ in winners]


def _insert_history_and_events(history: list[Assignment], events: list[InteractionEvent]) -> list[InteractionEvent]:
    """The ownership rows and the events in one statement (one round trip, not two), as ``config.rows`` writes rows
    (the columns, stamps and value preparation of ``bulk_create`` without its compiler: compiling the two INSERTs
    was a tenth of a router's CPU). The events come back saved, their ids in order."""
    history_sql, history_params = rows_insert_sql(history, returning=False)
    events_sql, events_params = rows_insert_sql(events)
    with connection.cursor() as cursor:
        cursor.execute(f"WITH history AS ({history_sql}) {events_sql}", history_params + events_params)
        ids = [row[0] for row in cursor.fetchall()]
    return rows_saved(events, ids)
