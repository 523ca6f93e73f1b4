"""Assignment history: one row per offer, ended by whatever ends the agent's ownership; auto-accept queues."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agents.choices import AgentStatus
from crm.choices import AssignmentEndReason, InteractionEventKind, InteractionStatus
from crm.models import Assignment, InteractionEvent
from crm.services import lifecycle
from crm.services.routing import route_next
from tests.agents.factories import AgentFactory
from tests.crm.factories import QueueFactory, interaction_in_status

pytestmark = pytest.mark.django_db

S = InteractionStatus
R = AssignmentEndReason


def _agent(**kwargs):
    kwargs.setdefault("status", AgentStatus.AVAILABLE)
    kwargs.setdefault("status_changed_at", timezone.now() - timedelta(minutes=5))
    return AgentFactory(**kwargs)


def _history(interaction):
    """(agent, end reason, never accepted, still open) per offer, oldest first."""
    return [
        (row.agent_id, row.end_reason, row.accepted_at is None, row.ended_at is None)
        for row in Assignment.objects.filter(interaction=interaction).order_by("id")
    ]


def test_database_refuses_a_second_open_assignment_for_one_interaction():
    agent, other = _agent(), _agent()
    interaction = interaction_in_status(S.ASSIGNED, agent=agent)

    with pytest.raises(IntegrityError):
        Assignment.objects.create(interaction=interaction, agent=other, offered_at=timezone.now())


def test_full_lifecycle_leaves_one_row_per_offer_with_its_end_reason():
    first, second, third = _agent(), _agent(), _agent()
    interaction = interaction_in_status(S.ACTIVE, agent=first)
    lifecycle.interaction_hold(interaction=interaction)
    lifecycle.interaction_resume(interaction=interaction)
    lifecycle.interaction_transfer(interaction=interaction, to_agent=second)
    lifecycle.interaction_accept(interaction=interaction, agent=second)
    lifecycle.interaction_wrap_up(interaction=interaction)
    lifecycle.interaction_resolve(interaction=interaction, disposition="solved")
    lifecycle.interaction_reopen(interaction=interaction)
    lifecycle.interaction_assign(interaction=interaction, agent=third)
    lifecycle.interaction_abandon(interaction=interaction)

    assert _history(interaction) == [
        (first.pk, R.TRANSFERRED, False, False),
        (second.pk, R.RESOLVED, False, False),
        (third.pk, R.ABANDONED, True, False),
    ]
    assigned_events = InteractionEvent.objects.filter(interaction=interaction, kind=InteractionEventKind.ASSIGNED)
    assert assigned_events.count() == 2  # the transfer to an agent is logged as a transfer


def test_transfer_to_a_queue_ends_the_assignment_and_opens_none():
    agent = _agent()
    interaction = interaction_in_status(S.ACTIVE, agent=agent)

    lifecycle.interaction_transfer(interaction=interaction, to_queue=QueueFactory(channels=["chat"]))

    assert _history(interaction) == [(agent.pk, R.TRANSFERRED, False, False)]


def test_open_assignment_always_names_the_interactions_agent():
    agent = _agent()
    interaction = interaction_in_status(S.ON_HOLD, agent=agent)

    open_row = Assignment.objects.get(interaction=interaction, ended_at__isnull=True)
    interaction.refresh_from_db()
    assert open_row.agent_id == interaction.agent_id == agent.pk
    assert open_row.offered_at == interaction.assigned_at and open_row.accepted_at == interaction.accepted_at


def test_assignment_costs_one_insert_and_ending_it_one_update():
    agent = _agent()
    interaction = interaction_in_status(S.QUEUED)

    with CaptureQueriesContext(connection) as assign_queries:
        lifecycle.interaction_assign(interaction=interaction, agent=agent)
    lifecycle.interaction_accept(interaction=interaction)
    with CaptureQueriesContext(connection) as resolve_queries:
        lifecycle.interaction_resolve(interaction=interaction)

    def touching(queries, verb):
        return [q for q in queries if q["sql"].startswith(verb) and "crm_assignment" in q["sql"]]

    assert len(touching(assign_queries, "INSERT")) == 1 and not touching(assign_queries, "UPDATE")
    assert len(touching(resolve_queries, "UPDATE")) == 1 and not touching(resolve_queries, "INSERT")


# --- auto-accept --------------------------------------------------------------------------------------


def _accepted_by_nobody(interaction) -> bool:
    event = InteractionEvent.objects.get(interaction=interaction, kind=InteractionEventKind.ACCEPTED)
    return event.actor is None and event.from_status == S.ASSIGNED and event.to_status == S.ACTIVE


def test_manual_assignment_in_an_auto_accept_queue_is_accepted_at_once():
    queue = QueueFactory(channels=["email"], auto_accept=True)
    agent = _agent()
    interaction = interaction_in_status(S.QUEUED, queue=queue, channel="email")

    returned = lifecycle.interaction_assign(interaction=interaction, agent=agent, actor=None)

    interaction.refresh_from_db()
    assert returned.status == interaction.status == S.ACTIVE and interaction.accepted_at is not None
    assert _accepted_by_nobody(interaction)
    assert _history(interaction) == [(agent.pk, "", False, True)]


def test_router_assignment_in_an_auto_accept_queue_is_accepted_at_once():
    queue = QueueFactory(channels=["email"], auto_accept=True)
    agent = _agent()
    interaction = interaction_in_status(S.QUEUED, queue=queue, channel="email")

    route_next()

    interaction.refresh_from_db()
    assert (interaction.status, interaction.agent) == (S.ACTIVE, agent)
    assert _accepted_by_nobody(interaction)


def test_transfer_to_an_agent_in_an_auto_accept_queue_is_accepted_at_once():
    queue = QueueFactory(channels=["email"], auto_accept=True)
    first, second = _agent(), _agent()
    interaction = interaction_in_status(S.ACTIVE, agent=first, queue=queue, channel="email")

    lifecycle.interaction_transfer(interaction=interaction, to_agent=second)

    interaction.refresh_from_db()
    assert (interaction.status, interaction.agent) == (S.ACTIVE, second)
    assert InteractionEvent.objects.filter(interaction=interaction, kind=InteractionEventKind.ACCEPTED).count() == 2
    assert _history(interaction) == [(first.pk, R.TRANSFERRED, False, False), (second.pk, "", False, True)]


def test_queue_without_auto_accept_leaves_the_offer_to_the_agent():
    agent = _agent()
    interaction = interaction_in_status(S.QUEUED, queue=QueueFactory(channels=["chat"]))

    lifecycle.interaction_assign(interaction=interaction, agent=agent)

    interaction.refresh_from_db()
    assert interaction.status == S.ASSIGNED
    assert not InteractionEvent.objects.filter(interaction=interaction, kind=InteractionEventKind.ACCEPTED).exists()
