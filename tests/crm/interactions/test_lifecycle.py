import threading
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.test import override_settings
from django.utils import timezone

from config.errors import DomainError, IllegalTransition
from contacts.models import ContactIdentity, Customer
from crm.choices import InteractionEventKind, InteractionStatus, MessageDirection, Priority
from crm.interactions import services as lifecycle
from crm.interactions.models import Interaction, InteractionEvent, Message
from crm.interactions.signals import interaction_changed
from tests.agents.factories import AgentFactory, TeamFactory, UserFactory
from tests.contacts.factories import CustomerFactory
from tests.crm.factories import QueueFactory, SLATargetFactory, interaction_in_status

pytestmark = pytest.mark.django_db

S = InteractionStatus
K = InteractionEventKind


@pytest.fixture
def actor():
    return UserFactory()


@pytest.fixture
def received():
    """What ``interaction_changed`` announced during the test (a real receiver, not a mock)."""
    events = []

    def receiver(sender, **kwargs):
        events.append((kwargs["kind"], kwargs["from_status"], kwargs["to_status"]))

    interaction_changed.connect(receiver, dispatch_uid="test-lifecycle-receiver")
    yield events
    interaction_changed.disconnect(dispatch_uid="test-lifecycle-receiver")


def _events(interaction):
    return list(InteractionEvent.objects.filter(interaction=interaction).order_by("id"))


# --- creation -----------------------------------------------------------------------------------


def test_create_queues_into_the_named_queue_with_created_and_queued_events(
    actor, received, django_capture_on_commit_callbacks
):
    queue = QueueFactory(channels=["chat"])
    customer = CustomerFactory()

    with django_capture_on_commit_callbacks(execute=True):
        interaction = lifecycle.interaction_create_inbound(
            channel="chat", customer=customer, queue=queue, subject="Card blocked", body="Help!", actor=actor
        )

    interaction.refresh_from_db()
    assert interaction.status == S.QUEUED
    assert interaction.queue == queue
    assert interaction.queued_at == interaction.created_at
    assert [(e.kind, e.from_status, e.to_status, e.actor) for e in _events(interaction)] == [
        (K.CREATED, "", S.NEW, actor),
        (K.QUEUED, S.NEW, S.QUEUED, actor),
    ]
    message = Message.objects.get(interaction=interaction)
    assert (message.direction, message.body, message.author) == (MessageDirection.INBOUND, "Help!", None)
    assert received == [(K.CREATED, "", S.NEW), (K.QUEUED, S.NEW, S.QUEUED)]


def test_create_announces_nothing_before_commit(received, django_capture_on_commit_callbacks):
    customer, queue = CustomerFactory(), QueueFactory()  # a new queue has an on-commit of its own (config.rowcache)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        lifecycle.interaction_create_inbound(channel="chat", customer=customer, queue=queue)

    assert received == []
    assert len(callbacks) == 1  # one on-commit announces both changes (created, queued) as a batch
    callbacks[0]()
    assert [change[0] for change in received] == [K.CREATED, K.QUEUED]


def test_create_picks_the_highest_priority_active_queue_serving_the_channel():
    QueueFactory(channels=["chat"], priority=9, is_active=False)
    QueueFactory(channels=["email"], priority=10)
    first_of_two = QueueFactory(channels=["chat", "email"], priority=7)
    QueueFactory(channels=["chat"], priority=7)
    QueueFactory(channels=["chat"], priority=3)

    interaction = lifecycle.interaction_create_inbound(channel="chat", customer=CustomerFactory())

    assert interaction.queue == first_of_two
    assert interaction.status == S.QUEUED


def test_create_without_a_serving_queue_stays_new():
    QueueFactory(channels=["email"])

    interaction = lifecycle.interaction_create_inbound(channel="voice", customer=CustomerFactory())

    assert (interaction.status, interaction.queue, interaction.queued_at) == (S.NEW, None, None)
    assert [e.kind for e in _events(interaction)] == [K.CREATED]


def test_create_rejects_a_queue_that_does_not_serve_the_channel():
    queue = QueueFactory(channels=["email"])

    with pytest.raises(ValidationError) as exc:
        lifecycle.interaction_create_inbound(channel="chat", customer=CustomerFactory(), queue=queue)

    assert "queue" in exc.value.message_dict
    assert Interaction.objects.count() == 0


def test_create_finds_the_customer_by_identity_and_creates_unknown_ones():
    known = CustomerFactory()
    ContactIdentity.objects.create(customer=known, channel="email", address="ana@example.com")

    found = lifecycle.interaction_create_inbound(
        channel="email", customer_identity={"address": "  Ana@Example.com "}, queue=QueueFactory()
    )
    created = lifecycle.interaction_create_inbound(
        channel="sms",
        customer_identity={"address": "+1 415 555 2671", "name": "Bo"},
        queue=QueueFactory(channels=["sms"]),
    )

    assert found.customer == known
    assert created.customer.name == "Bo"
    assert created.customer.identities.get().address == "+14155552671"


def test_create_with_an_invalid_address_writes_nothing():
    with pytest.raises(ValidationError) as exc:
        lifecycle.interaction_create_inbound(channel="email", customer_identity={"address": "not-an-email"})

    assert "customer_identity" in exc.value.message_dict
    assert Customer.objects.count() == 0
    assert Interaction.objects.count() == 0


def test_create_rejects_a_duplicate_external_id_on_the_same_channel_and_writes_nothing():
    queue = QueueFactory()
    lifecycle.interaction_create_inbound(channel="chat", customer=CustomerFactory(), queue=queue, external_id="pbx-1")

    with pytest.raises(ValidationError) as exc:
        lifecycle.interaction_create_inbound(
            channel="chat", customer_identity={"address": "new@example.com"}, queue=queue, external_id="pbx-1", body="x"
        )

    assert "external_id" in exc.value.message_dict
    assert Interaction.objects.count() == 1
    assert not Customer.objects.filter(email="new@example.com").exists()
    assert Message.objects.count() == 0


def test_the_same_external_id_on_another_channel_is_another_interaction():
    queue = QueueFactory()
    lifecycle.interaction_create_inbound(channel="chat", customer=CustomerFactory(), queue=queue, external_id="x-1")
    lifecycle.interaction_create_inbound(channel="email", customer=CustomerFactory(), queue=queue, external_id="x-1")

    assert Interaction.objects.filter(external_id="x-1").count() == 2


def test_create_rejects_an_over_long_body_before_writing_anything():
    with override_settings(SWITCHBOARD_MAX_MESSAGE_LENGTH=10), pytest.raises(ValidationError) as exc:
        lifecycle.interaction_create_inbound(
            channel="chat", customer_identity={"address": "a@example.com"}, body="x" * 11
        )

    assert "body" in exc.value.message_dict
    assert Customer.objects.count() == 0


@override_settings(SWITCHBOARD_FOLLOW_UP_DAYS=7)
def test_a_repeat_contact_within_the_window_links_the_latest_resolution():
    customer = CustomerFactory()
    older = interaction_in_status(S.CLOSED, customer=customer)
    latest = interaction_in_status(S.RESOLVED, customer=customer)
    interaction_in_status(S.ABANDONED, customer=customer)
    Interaction.objects.filter(pk=older.pk).update(resolved_at=timezone.now() - timedelta(days=2))
    Interaction.objects.filter(pk=latest.pk).update(resolved_at=timezone.now() - timedelta(days=1))

    repeat = lifecycle.interaction_create_inbound(channel="chat", customer=customer, queue=QueueFactory())

    assert repeat.follow_up_of == latest


@override_settings(SWITCHBOARD_FOLLOW_UP_DAYS=7)
def test_a_contact_after_the_window_is_not_a_follow_up():
    customer = CustomerFactory()
    old = interaction_in_status(S.RESOLVED, customer=customer)
    Interaction.objects.filter(pk=old.pk).update(resolved_at=timezone.now() - timedelta(days=8))
    other_customers = interaction_in_status(S.RESOLVED)

    repeat = lifecycle.interaction_create_inbound(channel="chat", customer=customer, queue=QueueFactory())

    assert repeat.follow_up_of is None
    assert other_customers.follow_ups.count() == 0


def test_create_stores_due_times_from_the_queue_policy():
    target = SLATargetFactory(channel="chat", first_response_seconds=60, resolution_seconds=600)
    queue = QueueFactory(sla_policy=target.policy)

    interaction = lifecycle.interaction_create_inbound(channel="chat", customer=CustomerFactory(), queue=queue)

    assert interaction.first_response_due_at == interaction.queued_at + timedelta(seconds=60)
    assert interaction.resolution_due_at == interaction.queued_at + timedelta(seconds=600)


# --- legal moves ------------------------------------------------------------------------------------

LEGAL_MOVES = [
    # (from, service, to, stamped field, event kind)
    (S.QUEUED, "assign", S.ASSIGNED, "assigned_at", K.ASSIGNED),
    (S.ASSIGNED, "accept", S.ACTIVE, "accepted_at", K.ACCEPTED),
    (S.ACTIVE, "hold", S.ON_HOLD, None, K.HELD),
    (S.ON_HOLD, "resume", S.ACTIVE, None, K.RESUMED),
    (S.ACTIVE, "wrap_up", S.WRAP_UP, None, K.WRAP_UP),
    (S.ACTIVE, "resolve", S.RESOLVED, "resolved_at", K.RESOLVED),
    (S.WRAP_UP, "resolve", S.RESOLVED, "resolved_at", K.RESOLVED),
    (S.RESOLVED, "close", S.CLOSED, "closed_at", K.CLOSED),
    (S.QUEUED, "abandon", S.ABANDONED, "abandoned_at", K.ABANDONED),
    (S.ASSIGNED, "abandon", S.ABANDONED, "abandoned_at", K.ABANDONED),
    (S.ON_HOLD, "abandon", S.ABANDONED, "abandoned_at", K.ABANDONED),
    (S.RESOLVED, "reopen", S.QUEUED, "queued_at", K.REOPENED),
]


@pytest.mark.parametrize(("start", "service", "end", "stamp", "kind"), LEGAL_MOVES)
def test_a_legal_move_stamps_its_time_and_logs_one_event_with_the_actor(actor, start, service, end, stamp, kind):
    interaction = interaction_in_status(start)
    events_before = InteractionEvent.objects.filter(interaction=interaction).count()
    before = timezone.now()
    kwargs = {"agent": AgentFactory()} if service == "assign" else {}

    result = getattr(lifecycle, f"interaction_{service}")(interaction=interaction, actor=actor, **kwargs)

    stored = Interaction.objects.get(pk=interaction.pk)
    assert stored.status == result.status == interaction.status == end
    if stamp:
        assert getattr(stored, stamp) >= before
    new_events = list(InteractionEvent.objects.filter(interaction=interaction).order_by("id")[events_before:])
    assert [(e.kind, e.from_status, e.to_status, e.actor) for e in new_events] == [(kind, start, end, actor)]
    assert new_events[0].at >= before


def test_a_legal_move_is_announced_after_commit(received, django_capture_on_commit_callbacks):
    interaction = interaction_in_status(S.ACTIVE)

    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.interaction_hold(interaction=interaction)

    assert received == [(K.HELD, S.ACTIVE, S.ON_HOLD)]


# --- illegal moves ----------------------------------------------------------------------------------

SERVICES_TARGETS = {
    "accept": S.ACTIVE,
    "hold": S.ON_HOLD,
    "resume": S.ACTIVE,
    "wrap_up": S.WRAP_UP,
    "resolve": S.RESOLVED,
    "close": S.CLOSED,
    "abandon": S.ABANDONED,
    "reopen": S.QUEUED,
}
ILLEGAL_MOVES = [
    (start, service)
    for start in [S.QUEUED, S.ASSIGNED, S.ACTIVE, S.ON_HOLD, S.WRAP_UP, S.RESOLVED, S.CLOSED, S.ABANDONED]
    for service in SERVICES_TARGETS
    if not any(m[0] == start and m[1] == service for m in LEGAL_MOVES)
]


@pytest.mark.parametrize(("start", "service"), ILLEGAL_MOVES)
def test_an_illegal_move_raises_and_changes_nothing(start, service, received, django_capture_on_commit_callbacks):
    interaction = interaction_in_status(start)
    snapshot = Interaction.objects.filter(pk=interaction.pk).values().get()
    events_before = InteractionEvent.objects.filter(interaction=interaction).count()

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(IllegalTransition):
        getattr(lifecycle, f"interaction_{service}")(interaction=interaction)

    assert Interaction.objects.filter(pk=interaction.pk).values().get() == snapshot
    assert InteractionEvent.objects.filter(interaction=interaction).count() == events_before
    assert received == []


def test_an_illegal_move_says_what_is_allowed():
    interaction = interaction_in_status(S.CLOSED)

    with pytest.raises(IllegalTransition) as exc:
        lifecycle.interaction_resolve(interaction=interaction)

    assert str(exc.value) == (
        f"Interaction {interaction.pk} is closed; it cannot be resolved. Allowed from closed: none."
    )


def test_assigning_work_that_is_not_queued_is_illegal():
    interaction = interaction_in_status(S.ACTIVE)
    agent_before = interaction.agent_id

    with pytest.raises(IllegalTransition, match="Allowed from active: queued, on_hold, wrap_up, resolved"):
        lifecycle.interaction_assign(interaction=interaction, agent=AgentFactory())

    assert Interaction.objects.get(pk=interaction.pk).agent_id == agent_before


def test_assigning_to_an_inactive_agent_is_refused():
    interaction = interaction_in_status(S.QUEUED)

    with pytest.raises(DomainError):
        lifecycle.interaction_assign(interaction=interaction, agent=AgentFactory(is_active=False))

    assert Interaction.objects.get(pk=interaction.pk).status == S.QUEUED


def test_only_the_assigned_agent_can_accept():
    interaction = interaction_in_status(S.ASSIGNED)

    with pytest.raises(DomainError, match="assigned to another agent"):
        lifecycle.interaction_accept(interaction=interaction, agent=AgentFactory())

    assert Interaction.objects.get(pk=interaction.pk).status == S.ASSIGNED


# --- handle time, reopen, update --------------------------------------------------------------------


def _age_last_event(interaction, seconds):
    event = InteractionEvent.objects.filter(interaction=interaction).order_by("-id").first()
    InteractionEvent.objects.filter(pk=event.pk).update(at=event.at - timedelta(seconds=seconds))


def test_handle_time_parts_add_up_from_the_event_log():
    interaction = interaction_in_status(S.ACTIVE)
    _age_last_event(interaction, 90)
    interaction = lifecycle.interaction_hold(interaction=interaction)
    _age_last_event(interaction, 30)
    interaction = lifecycle.interaction_resume(interaction=interaction)
    lifecycle.interaction_update(interaction=interaction, subject="renamed")  # not a step: does not reset the clock
    _age_last_event(interaction, 0)
    InteractionEvent.objects.filter(interaction=interaction, kind=K.RESUMED).update(
        at=timezone.now() - timedelta(seconds=60)
    )
    interaction = lifecycle.interaction_wrap_up(interaction=interaction)
    _age_last_event(interaction, 20)
    interaction = lifecycle.interaction_resolve(interaction=interaction, disposition="solved")

    stored = Interaction.objects.get(pk=interaction.pk)
    assert 150 <= stored.talk_seconds <= 155
    assert 30 <= stored.hold_seconds <= 32
    assert 20 <= stored.wrap_up_seconds <= 22
    assert stored.disposition == "solved"


def test_resolve_keeps_an_earlier_category_unless_given_one():
    interaction = interaction_in_status(S.ACTIVE, category="billing")

    resolved = lifecycle.interaction_resolve(interaction=interaction, disposition="refund")

    assert (resolved.category, resolved.disposition) == ("billing", "refund")


def test_reopen_returns_work_to_its_queue_without_agent_and_keeps_the_resolution_time():
    target = SLATargetFactory(channel="chat", first_response_seconds=60, resolution_seconds=600)
    interaction = interaction_in_status(S.RESOLVED, queue=QueueFactory(sla_policy=target.policy))
    resolved_at, agent_id = interaction.resolved_at, interaction.agent_id

    reopened = lifecycle.interaction_reopen(interaction=interaction)

    stored = Interaction.objects.get(pk=interaction.pk)
    assert (stored.status, stored.agent_id, stored.resolved_at) == (S.QUEUED, None, None)
    assert stored.queued_at > resolved_at
    assert stored.resolution_due_at == stored.queued_at + timedelta(seconds=600)
    event = InteractionEvent.objects.filter(interaction=reopened, kind=K.REOPENED).get()
    assert event.data["resolved_at"] == resolved_at.isoformat()
    assert event.data["previous_agent_id"] == agent_id


def test_update_changes_only_what_is_given_and_a_new_priority_moves_the_due_times(actor):
    policy_target = SLATargetFactory(channel="chat", priority=None, first_response_seconds=600, resolution_seconds=6000)
    SLATargetFactory(
        policy=policy_target.policy,
        channel="chat",
        priority=Priority.URGENT,
        first_response_seconds=60,
        resolution_seconds=600,
    )
    interaction = interaction_in_status(S.QUEUED, queue=QueueFactory(sla_policy=policy_target.policy), subject="old")

    updated = lifecycle.interaction_update(
        interaction=interaction, actor=actor, priority=Priority.URGENT, tags=["vip", " vip", "refund"]
    )

    stored = Interaction.objects.get(pk=interaction.pk)
    assert (stored.subject, stored.priority, stored.tags) == ("old", Priority.URGENT, ["vip", "refund"])
    assert stored.first_response_due_at == stored.queued_at + timedelta(seconds=60)
    event = InteractionEvent.objects.get(interaction=updated, kind=K.UPDATED)
    assert event.actor == actor
    assert event.data["priority"] == {"from": Priority.NORMAL, "to": Priority.URGENT}


def test_an_update_that_changes_nothing_logs_nothing():
    interaction = interaction_in_status(S.QUEUED, subject="same")

    lifecycle.interaction_update(interaction=interaction, subject="same")

    assert not InteractionEvent.objects.filter(interaction=interaction, kind=K.UPDATED).exists()


def test_update_rejects_an_unknown_priority():
    interaction = interaction_in_status(S.QUEUED)

    with pytest.raises(ValidationError):
        lifecycle.interaction_update(interaction=interaction, priority=9)

    assert Interaction.objects.get(pk=interaction.pk).priority == Priority.NORMAL


# --- concurrency ------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_assigners_one_wins():
    team = TeamFactory()
    interaction = interaction_in_status(S.QUEUED, queue=QueueFactory(team=team))
    agents = [AgentFactory(team=team), AgentFactory(team=team)]
    outcomes: list = []
    barrier = threading.Barrier(2)

    # a third connection holds the row, so both assigners are queued behind it and really race
    with connection.cursor() as cursor:
        cursor.execute("BEGIN")
        cursor.execute("SELECT id FROM crm_interaction WHERE id = %s FOR UPDATE", [interaction.pk])

        def assign(agent):
            try:
                barrier.wait()
                lifecycle.interaction_assign(interaction=Interaction.objects.get(pk=interaction.pk), agent=agent)
                outcomes.append(("won", agent.pk))
            except IllegalTransition:
                outcomes.append(("lost", agent.pk))
            finally:
                connections.close_all()

        threads = [threading.Thread(target=assign, args=(agent,)) for agent in agents]
        for thread in threads:
            thread.start()
        try:
            _wait_for_lock_waiters(cursor, 2)
        finally:
            cursor.execute("COMMIT")
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(o[0] for o in outcomes) == ["lost", "won"]
    winner = next(pk for result, pk in outcomes if result == "won")
    stored = Interaction.objects.get(pk=interaction.pk)
    assert (stored.status, stored.agent_id) == (S.ASSIGNED, winner)
    assert InteractionEvent.objects.filter(interaction=interaction, kind=K.ASSIGNED).count() == 1


def _wait_for_lock_waiters(cursor, count):
    """Block until ``count`` other backends wait on a lock (polling the server, not the clock's mercy)."""
    for _ in range(2000):
        # statistics views keep one snapshot per transaction; this cursor is inside one
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
        if cursor.fetchone()[0] >= count:
            return
        threading.Event().wait(0.01)
    raise AssertionError(f"{count} lock waiters never appeared")
