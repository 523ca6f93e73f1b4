"""agent_set_status: the presence state machine, its log and its signal."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from agents.choices import AGENT_STATUS_TRANSITIONS, AgentStatus
from agents.models import Agent, AgentStatusLog
from agents.services import agent_set_status
from agents.signals import agent_status_changed
from config.errors import IllegalTransition
from tests.agents.factories import AgentFactory, UserFactory

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
    assert (row.previous_status, row.status, row.actor, row.reason) == (
        "offline",
        "available",
        supervisor,
        "shift start",
    )
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


@pytest.mark.parametrize("before", ["available", "busy", "wrap_up"])
def test_working_agent_can_be_made_not_ready_and_must_come_back_through_available(before):
    agent = AgentFactory(status=before)

    agent_set_status(agent=agent, status="not_ready", reason="missed an offer")

    assert Agent.objects.get(pk=agent.pk).status == "not_ready"
    with pytest.raises(
        IllegalTransition, match=r"^Cannot go from not_ready to busy; allowed: available, offline, on_break"
    ):
        agent_set_status(agent=agent, status="busy")
    agent_set_status(agent=agent, status="available")
    assert [row.status for row in AgentStatusLog.objects.filter(agent=agent).order_by("id")] == [
        "not_ready",
        "available",
    ]


def test_agent_on_break_or_offline_cannot_be_made_not_ready():
    for before in ("on_break", "offline"):
        agent = AgentFactory(status=before)
        with pytest.raises(IllegalTransition):
            agent_set_status(agent=agent, status="not_ready")


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
    assert (received[0]["agent"].pk, received[0]["previous"], received[0]["status"]) == (
        agent.pk,
        "offline",
        "available",
    )


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
