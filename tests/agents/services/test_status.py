"""agent_set_status: the presence state machine, its log, its signal, and time in state."""

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from agents.choices import AGENT_STATUS_TRANSITIONS, AgentStatus
from agents.models import Agent, AgentStatusLog
from agents.selectors import agent_status_durations
from agents.services import agent_set_status
from agents.signals import agent_status_changed
from config.errors import IllegalTransition
from tests.agents.factories import AgentFactory, AgentStatusLogFactory, UserFactory

pytestmark = pytest.mark.django_db

LEGAL = [(before, after) for before, targets in AGENT_STATUS_TRANSITIONS.items() for after in sorted(targets)]
ILLEGAL = [
    (before, after)
    for before in AgentStatus.values
    for after in AgentStatus.values
    if after != before and after not in AGENT_STATUS_TRANSITIONS[before]
]


@pytest.fixture
def received():
    """Every agent_status_changed the test's code sends."""
    calls = []

    def receiver(sender, **kwargs):
        calls.append(kwargs)

    agent_status_changed.connect(receiver, dispatch_uid="test-receiver")
    yield calls
    agent_status_changed.disconnect(dispatch_uid="test-receiver")


def test_going_available_stamps_the_time_and_logs_who_and_why():
    agent, supervisor = AgentFactory(), UserFactory()
    before = timezone.now()

    returned = agent_set_status(agent=agent, status="available", actor=supervisor, reason="shift start")

    stored = Agent.objects.get(pk=agent.pk)
    assert stored.status == "available" and stored.status_changed_at >= before
    assert returned.status == agent.status == "available"  # the caller's instance is refreshed too
    row = AgentStatusLog.objects.get(agent=agent)
    assert (row.previous_status, row.status, row.actor, row.reason) == ("offline", "available", supervisor, "shift start")
    assert row.changed_at == stored.status_changed_at


@pytest.mark.parametrize(("before", "after"), LEGAL)
def test_every_allowed_transition_is_applied(before, after):
    agent = AgentFactory(status=before)
    agent_set_status(agent=agent, status=after)
    assert Agent.objects.get(pk=agent.pk).status == after
    assert AgentStatusLog.objects.filter(agent=agent, previous_status=before, status=after).count() == 1


@pytest.mark.parametrize(("before", "after"), ILLEGAL)
def test_every_other_transition_is_refused_and_nothing_is_logged(before, after):
    agent = AgentFactory(status=before)
    with pytest.raises(IllegalTransition):
        agent_set_status(agent=agent, status=after)
    assert Agent.objects.get(pk=agent.pk).status == before
    assert not AgentStatusLog.objects.exists()


def test_illegal_transition_message_names_the_allowed_statuses():
    agent = AgentFactory(status="on_break")
    with pytest.raises(IllegalTransition, match=r"^Cannot go from on_break to busy; allowed: available, offline\.$"):
        agent_set_status(agent=agent, status="busy")


def test_same_status_again_is_a_no_op_without_log_row(received, django_capture_on_commit_callbacks):
    agent = AgentFactory(status="available")
    with django_capture_on_commit_callbacks(execute=True):
        agent_set_status(agent=agent, status="available")
    assert Agent.objects.get(pk=agent.pk).status_changed_at is None
    assert not AgentStatusLog.objects.exists()
    assert received == []


def test_inactive_agent_cannot_become_available():
    agent = AgentFactory(is_active=False)
    with pytest.raises(IllegalTransition, match="inactive"):
        agent_set_status(agent=agent, status="available")
    assert Agent.objects.get(pk=agent.pk).status == "offline"
    assert not AgentStatusLog.objects.exists()


def test_inactive_agent_may_still_go_offline():
    agent = AgentFactory(is_active=False, status="on_break")
    agent_set_status(agent=agent, status="offline")
    assert Agent.objects.get(pk=agent.pk).status == "offline"


def test_unknown_status_is_a_field_error():
    agent = AgentFactory()
    with pytest.raises(ValidationError) as exc:
        agent_set_status(agent=agent, status="lunch")
    assert "status" in exc.value.message_dict
    assert not AgentStatusLog.objects.exists()


def test_reason_longer_than_the_log_keeps_is_a_field_error():
    agent = AgentFactory()
    with pytest.raises(ValidationError) as exc:
        agent_set_status(agent=agent, status="available", reason="x" * 201)
    assert "reason" in exc.value.message_dict
    assert not AgentStatusLog.objects.exists()


def test_signal_is_sent_after_commit_with_previous_and_new_status(received, django_capture_on_commit_callbacks):
    agent = AgentFactory()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        agent_set_status(agent=agent, status="available")
    assert received == []  # nothing announced before the commit
    for callback in callbacks:
        callback()
    assert len(received) == 1
    assert (received[0]["agent"].pk, received[0]["previous"], received[0]["status"]) == (agent.pk, "offline", "available")


def test_no_signal_for_a_change_that_rolled_back(received, django_capture_on_commit_callbacks):
    agent = AgentFactory()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            agent_set_status(agent=agent, status="available")
            raise RuntimeError("the caller's transaction fails later")
    assert callbacks == [] and received == []
    assert Agent.objects.get(pk=agent.pk).status == "offline"


def test_a_failing_listener_does_not_undo_or_break_the_change(django_capture_on_commit_callbacks):
    def broken(sender, **kwargs):
        raise RuntimeError("router down")

    agent_status_changed.connect(broken, dispatch_uid="broken-receiver")
    try:
        agent = AgentFactory()
        with django_capture_on_commit_callbacks(execute=True):
            agent_set_status(agent=agent, status="available")
    finally:
        agent_status_changed.disconnect(dispatch_uid="broken-receiver")
    assert Agent.objects.get(pk=agent.pk).status == "available"


@pytest.mark.django_db(transaction=True)
def test_concurrent_changes_leave_a_consistent_log():
    """Two threads flip the same agent; the row lock serialises them, so the log is one unbroken chain."""
    agent = AgentFactory()
    rounds = 15
    start = threading.Barrier(2)
    errors = []

    def flip(targets):
        try:
            start.wait(timeout=10)
            for _ in range(rounds):
                for status in targets:
                    try:
                        agent_set_status(agent=agent, status=status)
                    except IllegalTransition:
                        pass  # the other thread moved the agent first: a refused move, not a broken log
        except Exception as exc:  # noqa: BLE001 - surfaced by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=flip, args=(["available", "busy", "wrap_up", "available"],)),
        threading.Thread(target=flip, args=(["on_break", "available", "offline"],)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    log = list(AgentStatusLog.objects.filter(agent=agent).order_by("id"))
    assert len(log) > rounds  # both threads got changes through
    assert log[0].previous_status == "offline"
    for before, after in zip(log, log[1:], strict=False):
        assert after.previous_status == before.status
        assert after.status in AGENT_STATUS_TRANSITIONS[after.previous_status]
        assert after.changed_at >= before.changed_at
    assert Agent.objects.get(pk=agent.pk).status == log[-1].status


# --- time in state ---------------------------------------------------------------------------------


@pytest.fixture
def timeline():
    """An agent created at 08:00 (offline), available 09:00, busy 09:30, available 10:00, offline 11:00 (yesterday)."""
    day = (timezone.now() - timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    agent = AgentFactory()
    Agent.objects.filter(pk=agent.pk).update(created_at=day.replace(hour=8))
    agent.refresh_from_db()
    for hour, minute, previous, status in [
        (9, 0, "offline", "available"),
        (9, 30, "available", "busy"),
        (10, 0, "busy", "available"),
        (11, 0, "available", "offline"),
    ]:
        AgentStatusLogFactory(agent=agent, changed_at=day.replace(hour=hour, minute=minute), previous_status=previous, status=status)
    return agent, day


def test_durations_split_a_window_by_status(timeline):
    agent, day = timeline
    durations = agent_status_durations(agent=agent, start=day.replace(hour=9), end=day.replace(hour=11))
    assert durations == {"available": 5400.0, "busy": 1800.0, "offline": 0.0, "wrap_up": 0.0, "on_break": 0.0}


def test_durations_clip_spans_that_cross_the_window_edges(timeline):
    agent, day = timeline
    durations = agent_status_durations(agent=agent, start=day.replace(hour=9, minute=15), end=day.replace(hour=10, minute=15))
    assert (durations["available"], durations["busy"]) == (1800.0, 1800.0)


def test_durations_count_the_status_the_window_opens_in(timeline):
    agent, day = timeline
    # no change inside the window: the agent was busy throughout
    durations = agent_status_durations(agent=agent, start=day.replace(hour=9, minute=40), end=day.replace(hour=9, minute=50))
    assert durations["busy"] == 600.0 and sum(durations.values()) == 600.0


def test_durations_before_the_first_change_use_its_previous_status(timeline):
    agent, day = timeline
    durations = agent_status_durations(agent=agent, start=day.replace(hour=7), end=day.replace(hour=9, minute=30))
    # nothing before the agent existed (08:00); offline until 09:00
    assert (durations["offline"], durations["available"]) == (3600.0, 1800.0)


def test_durations_stop_at_now_for_the_current_status(timeline):
    agent, day = timeline
    end = timezone.now() + timedelta(days=1)
    durations = agent_status_durations(agent=agent, start=day.replace(hour=11), end=end)
    elapsed = (timezone.now() - day.replace(hour=11)).total_seconds()
    assert durations["offline"] == pytest.approx(elapsed, abs=5)


def test_durations_of_an_agent_without_log_are_their_status_since_creation():
    agent = AgentFactory()
    hour_ago = timezone.now() - timedelta(hours=1)
    Agent.objects.filter(pk=agent.pk).update(created_at=hour_ago)
    durations = agent_status_durations(agent=agent, start=hour_ago - timedelta(hours=1), end=timezone.now())
    assert durations["offline"] == pytest.approx(3600, abs=5)


def test_durations_of_an_empty_or_future_window_are_zero(timeline):
    agent, day = timeline
    tomorrow = timezone.now() + timedelta(days=1)
    assert sum(agent_status_durations(agent=agent, start=tomorrow, end=tomorrow + timedelta(hours=1)).values()) == 0
    assert sum(agent_status_durations(agent=agent, start=day.replace(hour=10), end=day.replace(hour=9)).values()) == 0


def test_durations_need_aware_datetimes(timeline):
    agent, day = timeline
    with pytest.raises(ValueError, match="aware"):
        agent_status_durations(agent=agent, start=day.replace(tzinfo=None), end=day)
