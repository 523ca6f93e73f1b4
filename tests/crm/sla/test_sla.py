from datetime import timedelta

import pytest
from django.utils import timezone

from crm.choices import InteractionStatus, Priority
from crm.sla.services.engine import sla_due_times, sla_target_for
from crm.sla.services.state import sla_state
from tests.crm.factories import InteractionFactory, QueueFactory, SLAPolicyFactory, SLATargetFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def policy():
    """A policy with all four kinds of target for chat/urgent, from the most to the least specific."""
    policy = SLAPolicyFactory()
    targets = {
        "channel+priority": SLATargetFactory(
            policy=policy, channel="chat", priority=Priority.URGENT, first_response_seconds=10
        ),
        "channel": SLATargetFactory(policy=policy, channel="chat", priority=None, first_response_seconds=20),
        "priority": SLATargetFactory(policy=policy, channel="", priority=Priority.URGENT, first_response_seconds=30),
        "any": SLATargetFactory(policy=policy, channel="", priority=None, first_response_seconds=40),
    }
    policy.targets_by_kind = targets
    return policy


def test_the_most_specific_target_wins_step_by_step(policy):
    queue = QueueFactory(sla_policy=policy)
    order = ["channel+priority", "channel", "priority", "any"]

    for kind in order:
        assert sla_target_for(queue=queue, channel="chat", priority=Priority.URGENT) == policy.targets_by_kind[kind]
        policy.targets_by_kind[kind].delete()

    assert sla_target_for(queue=queue, channel="chat", priority=Priority.URGENT) is None


def test_targets_of_other_channels_and_priorities_do_not_apply(policy):
    queue = QueueFactory(sla_policy=policy)

    assert sla_target_for(queue=queue, channel="email", priority=Priority.LOW) == policy.targets_by_kind["any"]
    assert sla_target_for(queue=queue, channel="email", priority=Priority.URGENT) == policy.targets_by_kind["priority"]
    assert sla_target_for(queue=queue, channel="chat", priority=Priority.LOW) == policy.targets_by_kind["channel"]


def test_no_queue_no_policy_or_an_inactive_policy_means_no_target(policy):
    assert sla_target_for(queue=None, channel="chat", priority=Priority.NORMAL) is None
    assert sla_target_for(queue=QueueFactory(), channel="chat", priority=Priority.NORMAL) is None
    policy.is_active = False
    policy.save(update_fields=["is_active"])
    assert sla_target_for(queue=QueueFactory(sla_policy=policy), channel="chat", priority=Priority.NORMAL) is None


def test_due_times_count_calendar_time_from_queueing():
    target = SLATargetFactory(channel="chat", first_response_seconds=300, resolution_seconds=7200)
    queued_at = timezone.now() - timedelta(hours=1)
    interaction = InteractionFactory(
        queue=QueueFactory(sla_policy=target.policy), created_at=queued_at - timedelta(minutes=5), queued_at=queued_at
    )

    assert sla_due_times(interaction=interaction) == (
        queued_at + timedelta(seconds=300),
        queued_at + timedelta(seconds=7200),
    )


def test_due_times_start_at_creation_when_never_queued_and_resolution_may_have_no_target():
    target = SLATargetFactory(channel="chat", first_response_seconds=300, resolution_seconds=None)
    created_at = timezone.now()
    interaction = InteractionFactory(
        queue=QueueFactory(sla_policy=target.policy), created_at=created_at, queued_at=None
    )

    assert sla_due_times(interaction=interaction) == (created_at + timedelta(seconds=300), None)


def test_sla_state_counts_down_and_flags_breaches():
    now = timezone.now()
    on_time = InteractionFactory(
        first_response_due_at=now + timedelta(seconds=90), resolution_due_at=now + timedelta(seconds=900)
    )
    late = InteractionFactory(
        first_response_due_at=now - timedelta(seconds=5), resolution_due_at=now + timedelta(seconds=5)
    )

    state = sla_state(interaction=on_time, now=now)
    assert state.breached == []
    assert state.remaining_seconds == {"first_response": 90, "next_response": None, "resolution": 900}
    state = sla_state(interaction=late, now=now)
    assert state.breached == ["first_response"]
    assert state.remaining_seconds == {"first_response": -5, "next_response": None, "resolution": 5}


def test_sla_state_stops_the_clock_when_the_step_is_done():
    now = timezone.now()
    answered_late = InteractionFactory(
        first_response_due_at=now - timedelta(minutes=10),
        first_response_at=now - timedelta(minutes=5),
        resolution_due_at=now - timedelta(minutes=1),
        resolved_at=now - timedelta(minutes=2),
        status=InteractionStatus.RESOLVED,
    )
    no_targets = InteractionFactory()

    state = sla_state(interaction=answered_late, now=now)
    assert state.breached == ["first_response"]
    assert state.remaining_seconds == {"first_response": None, "next_response": None, "resolution": None}
    assert sla_state(interaction=no_targets, now=now).remaining_seconds["first_response"] is None
