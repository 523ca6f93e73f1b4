"""Giving queued work to an agent: one (``interaction_assign``) or a router's batch (``interaction_assign_many``)."""

from collections.abc import Sequence
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext

from agents.models import Agent
from config.errors import DomainError
from crm.choices import InteractionEventKind, InteractionStatus

from ..hooks import Move, run_events_logged, run_interaction_saving
from ..models import Assignment, Interaction, InteractionEvent
from .eventlog import announce_batch, log_event, new_event
from .lifecycle import interaction_accept
from .transitions import illegal, sync

S = InteractionStatus
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
_ASSIGN_MANY_SQL = """
    UPDATE {interaction} i
    SET status = %(assigned)s, agent_id = v.agent_id, assigned_at = v.at, updated_at = v.at
    FROM unnest(%(ids)s::bigint[], %(agents)s::bigint[], %(ats)s::timestamptz[]) AS v(id, agent_id, at)
    WHERE i.id = v.id AND i.status = %(queued)s
    RETURNING i.id
"""


def interaction_assign_many(*, pairs: Sequence[tuple[Interaction, Agent]], actor=None) -> list[Interaction]:
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
    given order; the given instances are refreshed as by the single path.
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
    with transaction.atomic():
        start = timezone.now()
        ats = [start + timedelta(microseconds=index) for index in range(len(pairs))]
        at_of = dict(zip(ids, ats, strict=True))
        with connection.cursor() as cursor:
            cursor.execute(
                _ASSIGN_MANY_SQL.format(interaction=Interaction._meta.db_table),
                {
                    "assigned": S.ASSIGNED,
                    "queued": S.QUEUED,
                    "ats": ats,
                    "ids": ids,
                    "agents": [agent.pk for _, agent in pairs],
                },
            )
            won = {row[0] for row in cursor.fetchall()}
        if not won:
            return []
        rows = Interaction.objects.select_related("queue").in_bulk(sorted(won))
        winners: list[tuple[Interaction, Interaction, Agent]] = []
        for interaction, agent in pairs:
            if interaction.pk in won:
                assigned = rows[interaction.pk]
                assigned.agent = agent  # the caller's instance: no query when the agent is read later
                winners.append((interaction, assigned, agent))
        accepting = [a for _, a, _ in winners if a.queue is not None and a.queue.auto_accept]
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
        Assignment.objects.bulk_create(
            Assignment(
                interaction_id=assigned.pk,
                agent_id=agent.pk,
                offered_at=at_of[assigned.pk],
                accepted_at=at_of[assigned.pk] if assigned.status == S.ACTIVE else None,
            )
            for _, assigned, agent in winners
        )
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
        saved = InteractionEvent.objects.bulk_create(events)
        run_events_logged(events=saved)
        announce_batch(saved)
    for interaction, assigned, _ in winners:
        sync(
            target=interaction,
            source=assigned,
            fields=["status", "agent", "assigned_at", "accepted_at", "talk_seconds", "updated_at"],
        )
    return [assigned for _, assigned, _ in winners]
