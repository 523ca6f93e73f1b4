"""Assignment history: one row per offer, ended by whatever ends the agent's ownership; auto-accept queues;
assigning many at once (the router's batches)."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agents.choices import AgentStatus
from config.errors import DomainError
from crm.choices import AssignmentEndReason, InteractionEventKind, InteractionStatus
from crm.interactions import services as lifecycle
from crm.interactions.models import Assignment, Interaction, InteractionEvent
from crm.interactions.signals import interaction_changed
from crm.routing.services.router import route_next
from crm.webhooks.models import WebhookDelivery
from tests.agents.factories import AgentFactory
from tests.crm.factories import QueueFactory, WebhookFactory, interaction_in_status

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


# --- many at once (the router's batches) ----------------------------------------------------------------


def test_assign_many_skips_work_another_assigner_won_and_assigns_the_rest():
    first, second, rival = _agent(), _agent(), _agent()
    queue = QueueFactory(channels=["chat"])
    won_elsewhere, free, also_free = (interaction_in_status(S.QUEUED, queue=queue) for _ in range(3))
    lifecycle.interaction_assign(interaction=won_elsewhere, agent=rival)

    assigned = lifecycle.interaction_assign_many(
        pairs=[(free, first), (won_elsewhere, first), (also_free, second)], actor=None
    )

    assert [i.pk for i in assigned] == [free.pk, also_free.pk]
    assert (free.status, free.agent, also_free.agent) == (S.ASSIGNED, first, second)  # the given instances too
    won_elsewhere.refresh_from_db()
    assert won_elsewhere.agent == rival  # the loser changed nothing
    assert _history(won_elsewhere) == [(rival.pk, "", True, True)]
    assert _history(free) == [(first.pk, "", True, True)]
    assert InteractionEvent.objects.filter(interaction=won_elsewhere, kind=InteractionEventKind.ASSIGNED).count() == 1


def test_assign_many_writes_what_one_assignment_after_another_writes():
    agent = _agent()
    manual, batched = interaction_in_status(S.QUEUED), interaction_in_status(S.QUEUED)

    lifecycle.interaction_assign(interaction=manual, agent=agent)
    lifecycle.interaction_assign_many(pairs=[(batched, agent)])

    def written(interaction):
        interaction.refresh_from_db()
        events = [
            (e.kind, e.from_status, e.to_status, e.agent_id, e.at == interaction.assigned_at)
            for e in InteractionEvent.objects.filter(interaction=interaction).order_by("id")
        ]
        return interaction.status, interaction.agent_id, _history(interaction), events

    assert written(batched) == written(manual)


def test_assign_many_stamps_the_work_one_after_another_in_the_given_order():
    agent = _agent()
    work = [interaction_in_status(S.QUEUED) for _ in range(3)]

    lifecycle.interaction_assign_many(pairs=[(w, agent) for w in reversed(work)])

    times = [w.assigned_at for w in reversed(work)]
    assert times == sorted(times) and len(set(times)) == 3  # idle-since ranks agents as the router planned


def test_assign_many_accepts_at_once_in_auto_accept_queues_only():
    agent = _agent()
    email = interaction_in_status(S.QUEUED, queue=QueueFactory(channels=["email"], auto_accept=True), channel="email")
    chat = interaction_in_status(S.QUEUED)

    lifecycle.interaction_assign_many(pairs=[(email, agent), (chat, agent)])

    email.refresh_from_db()
    chat.refresh_from_db()
    assert (email.status, chat.status) == (S.ACTIVE, S.ASSIGNED)
    assert email.accepted_at is not None and chat.accepted_at is None
    assert _accepted_by_nobody(email)
    assert _history(email) == [(agent.pk, "", False, True)]
    assert not InteractionEvent.objects.filter(interaction=chat, kind=InteractionEventKind.ACCEPTED).exists()


def test_assign_many_writes_one_webhook_delivery_per_assignment_with_one_subscription_query():
    hook = WebhookFactory(events=["interaction.assigned"])
    agent = _agent()
    work = [interaction_in_status(S.QUEUED) for _ in range(3)]

    with CaptureQueriesContext(connection) as queries:
        lifecycle.interaction_assign_many(pairs=[(w, agent) for w in work])

    deliveries = WebhookDelivery.objects.filter(webhook=hook, event_type="interaction.assigned")
    assert sorted(d.payload["data"]["interaction"]["id"] for d in deliveries) == sorted(w.pk for w in work)
    assert {d.payload["data"]["interaction"]["agent_id"] for d in deliveries} == {agent.pk}
    assert len([q for q in queries if 'FROM "crm_webhook"' in q["sql"]]) == 1


def test_assign_many_sends_one_signal_per_event_on_commit_naming_the_batch(django_capture_on_commit_callbacks):
    agent = _agent()
    email = interaction_in_status(S.QUEUED, queue=QueueFactory(channels=["email"], auto_accept=True), channel="email")
    chat = interaction_in_status(S.QUEUED)
    heard = []

    def hear(sender, **kwargs):
        heard.append(kwargs)

    interaction_changed.connect(hear, sender=Interaction, dispatch_uid="test-assign-many")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            lifecycle.interaction_assign_many(pairs=[(email, agent), (chat, agent)])
            assert heard == []  # nothing before the commit
    finally:
        interaction_changed.disconnect(sender=Interaction, dispatch_uid="test-assign-many")

    changes = [(h["interaction_id"], h["kind"], h["from_status"], h["to_status"]) for h in heard]
    assert changes == [
        (email.pk, "assigned", "queued", "assigned"),
        (email.pk, "accepted", "assigned", "active"),
        (chat.pk, "assigned", "queued", "assigned"),
    ]
    assert [h["batch_index"] for h in heard] == [0, 1, 2]
    assert all(len(h["batch"]) == 3 for h in heard)


def test_assign_many_refuses_an_inactive_agent_and_changes_nothing():
    work = interaction_in_status(S.QUEUED)

    with pytest.raises(DomainError):
        lifecycle.interaction_assign_many(pairs=[(work, _agent(is_active=False))])

    work.refresh_from_db()
    assert work.status == S.QUEUED and _history(work) == []
