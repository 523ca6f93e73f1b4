import threading
from datetime import timedelta
from functools import partial

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import timezone

from agents.choices import AgentStatus
from config.errors import DomainError, IllegalTransition
from crm.choices import InteractionEventKind, InteractionStatus, MessageDirection
from crm.interactions import services as lifecycle
from crm.interactions.models import Interaction, InteractionEvent, Message
from tests.agents.factories import AgentFactory, UserFactory
from tests.crm.factories import QueueFactory, SLATargetFactory, interaction_in_status
from tests.support.threads import run_in_threads

pytestmark = pytest.mark.django_db

S = InteractionStatus
Kind = InteractionEventKind


def _available(**kwargs):
    kwargs.setdefault("capacity", {"voice": 1, "chat": 3, "email": 5})
    kwargs.setdefault("status_changed_at", timezone.now())
    return AgentFactory(status=AgentStatus.AVAILABLE, **kwargs)


def _snapshot(interaction):
    return (
        Interaction.objects.filter(pk=interaction.pk).values().get(),
        InteractionEvent.objects.count(),
        Message.objects.count(),
    )


def _age_last_event(interaction, seconds):
    event = InteractionEvent.objects.filter(interaction=interaction).order_by("-id").first()
    InteractionEvent.objects.filter(pk=event.pk).update(at=event.at - timedelta(seconds=seconds))


def _transfer_event(interaction):
    return InteractionEvent.objects.get(interaction=interaction, kind=Kind.TRANSFERRED)


# --- to a queue ---------------------------------------------------------------------------------------


def test_transfer_to_a_queue_requeues_without_an_agent_and_counts_the_talk_time():
    interaction = interaction_in_status(S.ACTIVE)
    old_queue, old_agent = interaction.queue, interaction.agent
    created_at, first_queued_at = interaction.created_at, interaction.queued_at
    _age_last_event(interaction, 90)
    billing = QueueFactory(channels=["chat"])
    user = UserFactory()

    lifecycle.interaction_transfer(interaction=interaction, actor=user, to_queue=billing, note="needs a refund")

    stored = Interaction.objects.get(pk=interaction.pk)
    assert (stored.status, stored.queue, stored.agent) == (S.QUEUED, billing, None)
    assert stored.created_at == created_at
    assert stored.queued_at > first_queued_at  # the wait in the new queue starts now
    assert stored.talk_seconds >= 90
    event = _transfer_event(interaction)
    assert (event.from_status, event.to_status, event.actor) == (S.ACTIVE, S.QUEUED, user)
    assert event.data["from_queue"] == old_queue.pk and event.data["to_queue"] == billing.pk
    assert event.data["from_agent"] == old_agent.pk and event.data["to_agent"] is None
    assert event.data["note"] == "needs a refund"
    note = Message.objects.get(pk=event.data["message_id"])
    assert (note.direction, note.author, note.body) == (MessageDirection.INTERNAL, user, "needs a refund")
    # the caller's instance is refreshed too
    assert (interaction.status, interaction.queue_id, interaction.agent_id) == (S.QUEUED, billing.pk, None)


def test_transfer_keeps_the_customers_sla_due_times():
    target = SLATargetFactory(channel="chat", first_response_seconds=60, resolution_seconds=600)
    interaction = interaction_in_status(S.ACTIVE, queue=QueueFactory(channels=["chat"], sla_policy=target.policy))
    due = (interaction.first_response_due_at, interaction.resolution_due_at)
    assert None not in due
    faster = SLATargetFactory(channel="chat", first_response_seconds=5, resolution_seconds=50)

    lifecycle.interaction_transfer(
        interaction=interaction, to_queue=QueueFactory(channels=["chat"], sla_policy=faster.policy)
    )

    stored = Interaction.objects.get(pk=interaction.pk)
    assert (stored.first_response_due_at, stored.resolution_due_at) == due


def test_transfer_from_hold_counts_the_hold_time():
    interaction = interaction_in_status(S.ON_HOLD)
    _age_last_event(interaction, 40)

    lifecycle.interaction_transfer(interaction=interaction, to_queue=QueueFactory(channels=["chat"]))

    stored = Interaction.objects.get(pk=interaction.pk)
    assert stored.status == S.QUEUED
    assert stored.hold_seconds >= 40
    assert _transfer_event(interaction).data["hold_seconds"] >= 40


@pytest.mark.parametrize(
    ("queue_kwargs", "message"),
    [({"channels": ["email"]}, "does not serve the chat channel"), ({"is_active": False}, "is not active")],
)
def test_transfer_to_a_queue_that_cannot_take_the_work_is_a_queue_error(queue_kwargs, message):
    interaction = interaction_in_status(S.ACTIVE)
    before = _snapshot(interaction)

    with pytest.raises(ValidationError) as excinfo:
        lifecycle.interaction_transfer(interaction=interaction, to_queue=QueueFactory(**queue_kwargs))

    assert message in excinfo.value.message_dict["queue"][0]
    assert _snapshot(interaction) == before


def test_a_key_without_a_user_keeps_the_note_in_the_event_only():
    interaction = interaction_in_status(S.ASSIGNED)

    lifecycle.interaction_transfer(interaction=interaction, to_queue=QueueFactory(channels=["chat"]), note="vip")

    event = _transfer_event(interaction)
    assert event.actor is None
    assert event.data["note"] == "vip" and "message_id" not in event.data
    assert not Message.objects.filter(interaction=interaction).exists()


# --- to an agent --------------------------------------------------------------------------------------


def test_transfer_to_an_available_agent_assigns_it_to_them():
    interaction = interaction_in_status(S.ACTIVE)
    previous = interaction.agent
    colleague = _available()

    lifecycle.interaction_transfer(interaction=interaction, to_agent=colleague, note="speaks French")

    stored = Interaction.objects.get(pk=interaction.pk)
    assert (stored.status, stored.agent, stored.queue_id) == (S.ASSIGNED, colleague, interaction.queue_id)
    event = _transfer_event(interaction)
    assert (event.from_status, event.to_status, event.agent_id) == (S.ACTIVE, S.ASSIGNED, colleague.pk)
    assert (event.data["from_agent"], event.data["to_agent"]) == (previous.pk, colleague.pk)
    assert event.data["from_queue"] == event.data["to_queue"] == interaction.queue_id
    # the new agent accepts it like any assignment
    accepted = lifecycle.interaction_accept(interaction=stored, agent=colleague)
    assert accepted.status == S.ACTIVE


@pytest.mark.parametrize(
    ("agent_kwargs", "message"),
    [
        ({"status": AgentStatus.ON_BREAK}, "only be transferred to an available agent"),
        ({"status": AgentStatus.OFFLINE}, "only be transferred to an available agent"),
        ({"is_active": False}, "is not active"),
        ({"capacity": {"chat": 0}}, "has no room for another chat interaction"),
    ],
)
def test_transfer_to_an_agent_who_cannot_take_it_is_refused(agent_kwargs, message):
    interaction = interaction_in_status(S.ACTIVE)
    agent = AgentFactory(**{"status": AgentStatus.AVAILABLE, **agent_kwargs})
    before = _snapshot(interaction)

    with pytest.raises(DomainError, match=message):
        lifecycle.interaction_transfer(interaction=interaction, to_agent=agent)

    assert _snapshot(interaction) == before


def test_an_agent_on_a_voice_call_has_no_room_for_a_transfer():
    busy = _available()
    interaction_in_status(S.ACTIVE, channel="voice", agent=busy)
    interaction = interaction_in_status(S.ACTIVE)

    with pytest.raises(DomainError, match="no room"):
        lifecycle.interaction_transfer(interaction=interaction, to_agent=busy)


def test_an_agent_with_every_slot_taken_has_room_again_once_one_is_wrapped_up_and_resolved():
    busy = _available(capacity={"chat": 1})
    owned = interaction_in_status(S.ACTIVE, agent=busy)
    interaction = interaction_in_status(S.ACTIVE)

    with pytest.raises(DomainError, match="has no room for another chat interaction"):
        lifecycle.interaction_transfer(interaction=interaction, to_agent=busy)
    # wrap-up still holds the slot; resolving frees it (the kept load follows both moves)
    owned = lifecycle.interaction_wrap_up(interaction=owned)
    with pytest.raises(DomainError, match="no room"):
        lifecycle.interaction_transfer(interaction=interaction, to_agent=busy)
    lifecycle.interaction_resolve(interaction=owned)
    busy.refresh_from_db()
    busy.status = AgentStatus.AVAILABLE
    busy.save(update_fields=["status"])

    moved = lifecycle.interaction_transfer(interaction=interaction, to_agent=busy)
    assert (moved.status, moved.agent_id) == (S.ASSIGNED, busy.pk)


def test_transfer_to_the_agent_who_has_it_is_refused():
    interaction = interaction_in_status(S.ACTIVE)
    owner = interaction.agent
    owner.status = AgentStatus.AVAILABLE
    owner.save(update_fields=["status"])

    with pytest.raises(DomainError, match="already with agent"):
        lifecycle.interaction_transfer(interaction=interaction, to_agent=owner)


# --- refusals -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [S.QUEUED, S.WRAP_UP, S.RESOLVED, S.CLOSED, S.ABANDONED])
def test_transfer_from_a_state_without_an_owner_is_illegal(status):
    interaction = interaction_in_status(status)
    before = _snapshot(interaction)

    with pytest.raises(IllegalTransition) as excinfo:
        lifecycle.interaction_transfer(interaction=interaction, to_queue=QueueFactory(channels=["chat"]))

    assert str(excinfo.value) == (
        f"Interaction {interaction.pk} is {status}; it cannot be transferred. "
        "It can be transferred from: assigned, active, on_hold."
    )
    assert _snapshot(interaction) == before


@pytest.mark.parametrize("targets", ["both", "neither"])
def test_transfer_needs_exactly_one_target(targets):
    interaction = interaction_in_status(S.ACTIVE)
    kwargs = {"to_queue": QueueFactory(), "to_agent": _available()} if targets == "both" else {}
    before = _snapshot(interaction)

    with pytest.raises(ValidationError) as excinfo:
        lifecycle.interaction_transfer(interaction=interaction, **kwargs)

    assert "queue" in excinfo.value.message_dict
    assert _snapshot(interaction) == before


# --- triggers -----------------------------------------------------------------------------------------


def test_work_transferred_to_a_queue_is_routed_at_once(eager_tasks, django_capture_on_commit_callbacks):
    interaction = interaction_in_status(S.ACTIVE)
    billing = QueueFactory(channels=["chat"])
    waiting_agent = _available(status_changed_at=timezone.now() - timedelta(minutes=5))

    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.interaction_transfer(interaction=interaction, to_queue=billing)

    stored = Interaction.objects.get(pk=interaction.pk)
    assert (stored.status, stored.agent, stored.queue) == (S.ASSIGNED, waiting_agent, billing)


def test_handing_work_to_a_colleague_frees_the_slot_for_waiting_work(eager_tasks, django_capture_on_commit_callbacks):
    first = _available(capacity={"chat": 1}, status_changed_at=timezone.now() - timedelta(minutes=5))
    interaction = interaction_in_status(S.ACTIVE, agent=first)
    waiting = interaction_in_status(S.QUEUED, queue=interaction.queue)  # no room for it yet
    colleague = _available(capacity={"chat": 1})

    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.interaction_transfer(interaction=interaction, to_agent=colleague)

    assert Interaction.objects.get(pk=waiting.pk).agent == first
    assert Interaction.objects.get(pk=interaction.pk).agent == colleague


# --- concurrency --------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_transfers_to_an_agent_with_one_slot_give_it_one_interaction():
    target = _available(capacity={"chat": 1})
    interactions = [interaction_in_status(S.ACTIVE) for _ in range(4)]
    barrier = threading.Barrier(len(interactions))
    outcomes = []

    def transfer(interaction):
        barrier.wait()
        try:
            lifecycle.interaction_transfer(interaction=interaction, to_agent=target)
            outcomes.append("moved")
        except DomainError as exc:
            outcomes.append(str(exc))

    assert run_in_threads(*(partial(transfer, i) for i in interactions)) == []
    assert outcomes.count("moved") == 1
    assert Interaction.objects.filter(agent=target).count() == 1
    assert InteractionEvent.objects.filter(kind=Kind.TRANSFERRED).count() == 1


@override_settings(SWITCHBOARD_MAX_MESSAGE_LENGTH=10)
def test_an_over_long_note_is_a_note_error():
    interaction = interaction_in_status(S.ACTIVE)
    before = _snapshot(interaction)

    with pytest.raises(ValidationError) as excinfo:
        lifecycle.interaction_transfer(
            interaction=interaction, actor=UserFactory(), to_queue=QueueFactory(channels=["chat"]), note="x" * 11
        )

    assert "at most 10 characters" in excinfo.value.message_dict["note"][0]
    assert _snapshot(interaction) == before
