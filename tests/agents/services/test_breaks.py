import threading
from datetime import timedelta
from functools import partial

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from agents.break_policy import BadStreak, break_due_sweep
from agents.breaks import (
    break_approve,
    break_deny,
    break_end,
    break_request,
    break_send_now,
    break_start,
    break_start_scheduled,
    break_type_get,
)
from agents.choices import AgentStatus, BreakKind, BreakStatus, SupervisorActionKind
from agents.models import Break, BreakDueNotice, SupervisorAction
from agents.selectors import agent_break_state, agent_continuous_handling
from agents.services import agent_set_status
from agents.signals import break_decided, break_due, break_ended, break_started
from config.errors import DomainError, IllegalTransition
from tests.agents.factories import AgentFactory, AgentStatusLogFactory, BreakPolicyFactory, TeamFactory, UserFactory
from tests.support.threads import run_in_threads

pytestmark = pytest.mark.django_db

A = AgentStatus


def _received(signal):
    got = []

    def listener(sender, **kwargs):
        got.append(kwargs)

    signal.connect(listener, weak=False)
    return got, lambda: signal.disconnect(listener)


def _history(agent, *steps, now):
    """Log rows: (status, minutes ago) in order; the agent's current status becomes the last one."""
    previous = "offline"
    for status, minutes_ago in steps:
        AgentStatusLogFactory(
            agent=agent, previous_status=previous, status=status, changed_at=now - timedelta(minutes=minutes_ago)
        )
        previous = status
    agent.status, agent.status_changed_at = previous, now - timedelta(minutes=steps[-1][1])
    agent.save(update_fields=["status", "status_changed_at"])


# --- continuous handling -------------------------------------------------------------------------


def test_continuous_handling_counts_busy_and_wrap_up_across_short_available_gaps():
    now = timezone.now()
    agent = AgentFactory()
    _history(agent, (A.AVAILABLE, 200), (A.BUSY, 130), (A.AVAILABLE, 70), (A.WRAP_UP, 68), (A.BUSY, 60), now=now)

    measured = agent_continuous_handling(agent=agent, gap_minutes=5, now=now)

    assert measured.run_started_at == now - timedelta(minutes=130)
    assert measured.handling_seconds == pytest.approx(128 * 60)


def test_long_available_gap_or_a_break_ends_the_run():
    now = timezone.now()
    gap, rest = AgentFactory(), AgentFactory()
    _history(gap, (A.BUSY, 200), (A.AVAILABLE, 100), (A.BUSY, 90), now=now)
    _history(rest, (A.BUSY, 200), (A.ON_BREAK, 100), (A.AVAILABLE, 99), (A.BUSY, 98), now=now)

    assert agent_continuous_handling(agent=gap, gap_minutes=5, now=now).run_started_at == now - timedelta(minutes=90)
    measured = agent_continuous_handling(agent=rest, gap_minutes=5, now=now)
    assert measured.run_started_at == now - timedelta(minutes=98)
    assert measured.rested_at == now - timedelta(minutes=99)


def test_sweep_records_a_continuous_handling_break_once_and_signals_it(django_capture_on_commit_callbacks):
    now = timezone.now()
    team = TeamFactory()
    BreakPolicyFactory(team=team, continuous_handling_minutes=120, well_being_minutes=10)
    tired, fresh = AgentFactory(team=team), AgentFactory(team=team)
    _history(tired, (A.AVAILABLE, 200), (A.BUSY, 125), now=now)
    _history(fresh, (A.AVAILABLE, 200), (A.BUSY, 100), now=now)
    got, stop = _received(break_due)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            first = break_due_sweep(now=now)
        with django_capture_on_commit_callbacks(execute=True):
            again = break_due_sweep(now=now + timedelta(minutes=1))
    finally:
        stop()

    assert [(n.agent_id, n.reason, n.minutes) for n in first] == [(tired.pk, "continuous_handling", 10)]
    assert again == []
    assert [g["agent"].pk for g in got] == [tired.pk]
    assert agent_break_state(agent=tired, now=now).due.pk == first[0].pk


def test_sweep_uses_the_bad_outcome_streak_it_is_given():
    now = timezone.now()
    team = TeamFactory()
    BreakPolicyFactory(team=team, bad_outcome_streak=3)
    agent = AgentFactory(team=team)
    _history(agent, (A.AVAILABLE, 30), now=now)
    since = now - timedelta(minutes=20)
    calls = []

    def streaks(agents, rested):
        calls.append(rested)
        return {agent.pk: BadStreak(count=n, since=since)}

    n = 2
    assert break_due_sweep(bad_streaks=streaks, now=now) == []
    n = 3
    (notice,) = break_due_sweep(bad_streaks=streaks, now=now)
    assert (notice.reason, notice.since) == ("bad_outcomes", since)
    assert calls[0] == {agent.pk: now - timedelta(minutes=30)}  # rested when they logged in


def test_sweep_ignores_agents_on_break_offline_or_without_policy():
    now = timezone.now()
    team = TeamFactory()
    BreakPolicyFactory(team=team, continuous_handling_minutes=10)
    on_break = AgentFactory(team=team)
    _history(on_break, (A.BUSY, 100), (A.ON_BREAK, 1), now=now)
    no_policy = AgentFactory()
    _history(no_policy, (A.BUSY, 100), now=now)
    assert break_due_sweep(now=now) == []


# --- the break lifecycle -------------------------------------------------------------------------


def test_request_approve_start_end_moves_the_agent_and_logs_every_step(django_capture_on_commit_callbacks):
    agent, boss = AgentFactory(), UserFactory()
    agent_set_status(agent=agent, status=A.AVAILABLE)
    started, stop_started = _received(break_started)
    ended, stop_ended = _received(break_ended)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            brk = break_request(agent=agent, break_type=break_type_get(code=BreakKind.SHORT), actor=agent.user)
            assert (brk.status, brk.minutes) == (BreakStatus.REQUESTED, 5)
            break_approve(brk=brk, actor=boss)
            break_start(brk=brk, actor=agent.user)
            agent.refresh_from_db()
            assert agent.status == A.ON_BREAK
            assert agent_break_state(agent=agent).current.pk == brk.pk
            break_end(brk=brk, actor=boss)
    finally:
        stop_started()
        stop_ended()

    agent.refresh_from_db()
    brk.refresh_from_db()
    assert agent.status == A.AVAILABLE
    assert (brk.status, brk.approved_by, brk.ended_by) == (BreakStatus.ENDED, boss, boss)
    assert [g["brk"].pk for g in started] == [brk.pk] and [g["brk"].pk for g in ended] == [brk.pk]
    assert list(SupervisorAction.objects.filter(agent=agent).order_by("id").values_list("kind", "actor")) == [
        (SupervisorActionKind.BREAK_REQUESTED, agent.user.pk),
        (SupervisorActionKind.BREAK_APPROVED, boss.pk),
        (SupervisorActionKind.BREAK_STARTED, agent.user.pk),
        (SupervisorActionKind.BREAK_ENDED, boss.pk),
    ]


def test_a_second_pending_request_is_refused():
    agent = AgentFactory()
    break_request(agent=agent, break_type=break_type_get(code=BreakKind.SHORT), actor=agent.user)
    with pytest.raises(DomainError, match="already has a break waiting"):
        break_request(agent=agent, break_type=break_type_get(code=BreakKind.LUNCH), actor=agent.user)


def test_a_requested_break_cannot_start_before_approval_and_a_denied_one_never():
    agent = AgentFactory()
    brk = break_request(agent=agent, break_type=break_type_get(code=BreakKind.SHORT), actor=agent.user)
    with pytest.raises(IllegalTransition):
        break_start(brk=brk, actor=agent.user)
    break_deny(brk=brk, actor=None, reason="queue is long")
    with pytest.raises(IllegalTransition):
        break_start(brk=brk, actor=agent.user)
    assert Break.objects.get().status == BreakStatus.DENIED


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"minutes": 0}, "minutes"),
        ({"minutes": 481}, "minutes"),
        ({"reason": "x" * 201}, "reason"),
        ({"scheduled_for": timezone.now() - timedelta(hours=1)}, "scheduled_for"),
    ],
)
def test_request_validation_errors_name_the_field(kwargs, field):
    agent = AgentFactory()
    with pytest.raises(ValidationError) as exc:
        break_request(agent=agent, break_type=break_type_get(code=BreakKind.SHORT), actor=None, **kwargs)
    assert field in exc.value.message_dict
    assert not Break.objects.exists()


def test_team_cap_refuses_a_break_over_the_share_and_leaves_it_approved():
    team = TeamFactory(name="Billing")
    BreakPolicyFactory(team=team, max_on_break_share="0.25")
    agents = AgentFactory.create_batch(8, team=team)
    for agent in agents:
        agent_set_status(agent=agent, status=A.AVAILABLE)
    break_send_now(agent=agents[0], actor=None)
    break_send_now(agent=agents[1], actor=None)  # 2 of 8 = 25 %
    brk = break_request(agent=agents[2], break_type=break_type_get(code=BreakKind.SHORT), actor=None, approved=True)

    with pytest.raises(DomainError, match="2 of the 8 logged-in agents of Billing are on break already") as exc:
        break_start(brk=brk, actor=None)

    assert exc.value.code == "break_cap_reached"
    brk.refresh_from_db()
    agents[2].refresh_from_db()
    assert brk.status == BreakStatus.APPROVED and agents[2].status == A.AVAILABLE
    break_end(brk=Break.objects.get(agent=agents[0], status=BreakStatus.STARTED), actor=None)
    assert break_start(brk=brk, actor=None).status == BreakStatus.STARTED


def test_one_agent_may_always_go_even_in_a_small_team():
    team = TeamFactory()
    BreakPolicyFactory(team=team, max_on_break_share="0.25")
    agent = AgentFactory(team=team)
    agent_set_status(agent=agent, status=A.AVAILABLE)
    assert break_send_now(agent=agent, actor=None).status == BreakStatus.STARTED


def test_send_now_starts_the_pending_break_and_marks_the_due_notice_taken():
    now = timezone.now()
    team = TeamFactory()
    BreakPolicyFactory(team=team, continuous_handling_minutes=60)
    agent = AgentFactory(team=team)
    _history(agent, (A.BUSY, 70), now=now)
    (notice,) = break_due_sweep(now=now)
    pending = break_request(agent=agent, break_type=break_type_get(code=BreakKind.LUNCH), actor=agent.user)
    boss = UserFactory()

    brk = break_send_now(agent=agent, actor=boss)

    assert brk.pk == pending.pk and brk.status == BreakStatus.STARTED and brk.approved_by == boss
    notice.refresh_from_db()
    assert notice.taken_id == brk.pk
    assert agent_break_state(agent=agent).due is None
    assert BreakDueNotice.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_break_starts_never_exceed_the_team_cap():
    team = TeamFactory()
    BreakPolicyFactory(team=team, max_on_break_share="0.25")
    agents = AgentFactory.create_batch(8, team=team)  # 25 % of 8: two at once
    breaks = []
    for agent in agents:
        agent_set_status(agent=agent, status=A.AVAILABLE)
        breaks.append(
            break_request(agent=agent, break_type=break_type_get(code=BreakKind.SHORT), actor=None, approved=True)
        )
    barrier = threading.Barrier(len(breaks))
    outcomes = []

    def take(brk):
        barrier.wait()
        try:
            break_start(brk=brk, actor=None)
            outcomes.append("started")
        except DomainError as exc:
            outcomes.append(exc.code)

    assert run_in_threads(*(partial(take, brk) for brk in breaks)) == []
    assert sorted(outcomes) == ["break_cap_reached"] * 6 + ["started"] * 2
    assert Break.objects.filter(status=BreakStatus.STARTED).count() == 2
    assert sum(1 for a in agents if type(a).objects.get(pk=a.pk).status == A.ON_BREAK) == 2


def test_a_supervisors_decision_on_a_request_is_announced_after_commit(django_capture_on_commit_callbacks):
    decided = []

    def on_decided(sender, *, agent, brk, **kwargs):
        decided.append((agent.pk, brk.status))

    break_decided.connect(on_decided, dispatch_uid="test-decided")
    try:
        first, second = AgentFactory(), AgentFactory()
        supervisor = UserFactory()
        with django_capture_on_commit_callbacks(execute=True):
            approved = break_request(agent=first, break_type=break_type_get(code=BreakKind.SHORT), actor=first.user)
            denied = break_request(agent=second, break_type=break_type_get(code=BreakKind.LUNCH), actor=second.user)
            assert decided == []  # nothing before the commit
            break_approve(brk=approved, actor=supervisor)
            break_deny(brk=denied, actor=supervisor, reason="queues are long")
    finally:
        break_decided.disconnect(dispatch_uid="test-decided")

    assert decided == [(first.pk, BreakStatus.APPROVED), (second.pk, BreakStatus.DENIED)]


def _scheduled(agent, *, minutes_ago):
    """A lunch planned by a supervisor, whose time came ``minutes_ago`` (negative: still to come)."""
    brk = break_request(agent=agent, break_type=break_type_get(code=BreakKind.LUNCH), actor=agent.user)
    brk = break_approve(brk=brk, actor=UserFactory(), scheduled_for=timezone.now() + timedelta(hours=1))
    Break.objects.filter(pk=brk.pk).update(scheduled_for=timezone.now() - timedelta(minutes=minutes_ago))
    return brk


def test_scheduled_breaks_start_at_their_time_unless_the_agent_is_offline_or_the_cap_is_reached():
    team = TeamFactory()
    BreakPolicyFactory(team=team, max_on_break_share="0.5")
    due, later, offline, capped = (AgentFactory(team=team, status=AgentStatus.AVAILABLE) for _ in range(4))
    type(due).objects.filter(pk=offline.pk).update(status=AgentStatus.OFFLINE)
    due_break = _scheduled(due, minutes_ago=3)
    later_break = _scheduled(later, minutes_ago=-60)
    offline_break = _scheduled(offline, minutes_ago=3)
    capped_break = _scheduled(capped, minutes_ago=2)

    # 3 logged in, half may be away: one break at a time; the earlier-scheduled one goes first
    assert break_start_scheduled() == 1

    states = {b.pk: b.status for b in Break.objects.all()}
    assert states[due_break.pk] == BreakStatus.STARTED
    assert states[later_break.pk] == BreakStatus.SCHEDULED
    assert states[offline_break.pk] == BreakStatus.SCHEDULED
    assert states[capped_break.pk] == BreakStatus.SCHEDULED  # held back, tried again next run
    due.refresh_from_db()
    assert due.status == AgentStatus.ON_BREAK
    assert SupervisorAction.objects.filter(kind=SupervisorActionKind.BREAK_STARTED, agent=due, actor=None).exists()

    break_end(brk=Break.objects.get(pk=due_break.pk), actor=due.user)
    assert break_start_scheduled() == 1  # now there is room
    assert Break.objects.get(pk=capped_break.pk).status == BreakStatus.STARTED
