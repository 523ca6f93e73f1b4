"""Breaks, training and SLA breaches on the live sockets: what is published to whom, and what each socket gets."""

from datetime import timedelta

import pytest
from django.utils import timezone

from agents.break_policy import break_due_sweep
from agents.breaks import break_end, break_request, break_send_now, break_type_get
from agents.choices import AgentStatus, BreakKind
from agents.models import Agent
from agents.services import agent_set_status
from agents.signals import training_expiring
from agents.training import training_assign, training_record_result
from crm.interactions import services as lifecycle
from crm.interactions.models import Interaction
from crm.live.events import BREACH_SUMMARY_OVER, break_sends, sla_breach_sends, sla_breaches_sends
from crm.live.selectors import live_queue_today, live_wallboard_snapshot
from crm.sla.models import Escalation
from crm.sla.services.policies import TargetSpec, sla_policy_create
from crm.sla.services.sweep import sla_sweep
from tests.agents.factories import (
    AdministratorFactory,
    AgentFactory,
    AgentStatusLogFactory,
    BreakPolicyFactory,
    TeamFactory,
    TrainingCourseFactory,
    UserFactory,
)
from tests.contacts.factories import CustomerFactory
from tests.crm.factories import QueueFactory

from .conftest import connect, db, frames_until, quiet, run


def first_response_policy(seconds=60):
    return sla_policy_create(
        name=f"First response {seconds}",
        default_target=TargetSpec(
            channel="", priority=None, first_response_seconds=seconds, next_response_seconds=None,
            resolution_seconds=None,
        ),
        escalation_steps=[],
    )  # fmt: skip


def new_work(queue):
    return lifecycle.interaction_create_inbound(channel="chat", customer=CustomerFactory(), queue=queue, subject="Hi")


def breach(queue, *, agent=None):
    """Work in ``queue`` (held by ``agent`` if given) whose first response is overdue, and the sweep's breach."""
    work = new_work(queue)
    if agent is not None:
        work = lifecycle.interaction_accept(interaction=lifecycle.interaction_assign(interaction=work, agent=agent))
    sla_sweep(now=timezone.now() + timedelta(hours=1))
    return work


# --- what is published (no sockets) -------------------------------------------------------------------


@pytest.mark.django_db
def test_break_events_go_to_the_agent_their_team_and_the_wallboards_without_a_query(django_assert_num_queries):
    agent = AgentFactory()
    brk = break_send_now(agent=agent, actor=None)
    with django_assert_num_queries(0):
        ((groups, event, data),) = break_sends(event="break.started", agent=agent, brk=brk)
    assert groups == {f"agent.{agent.pk}", f"team.{agent.team_id}", "wallboard.all"}
    assert data["agent"] == agent.pk
    assert data["break"] == {
        "id": brk.pk,
        "type": "well_being",
        "type_name": brk.break_type.name,
        "status": "started",
        "minutes": brk.minutes,
        "started_at": brk.started_at.isoformat(),
        "ends_at": (brk.started_at + timedelta(minutes=brk.minutes)).isoformat(),
    }


@pytest.mark.django_db
def test_a_sweep_with_many_breaches_tells_each_wallboard_one_count_per_queue(django_assert_num_queries):
    team = TeamFactory()
    first, second = QueueFactory(team=team, channels=["chat"]), QueueFactory(team=team, channels=["chat"])
    agent = AgentFactory(team=team)
    held = lifecycle.interaction_assign(interaction=new_work(first), agent=agent)
    waiting = [new_work(first) for _ in range(BREACH_SUMMARY_OVER)] + [new_work(second) for _ in range(3)]
    breaches = [{"interaction_id": w.pk, "target": "first_response", "due_at": None} for w in [held, *waiting]]

    with django_assert_num_queries(1):
        sends = sla_breaches_sends(breaches=breaches)

    by_event = {(event, frozenset(groups)): data for groups, event, data in sends}
    counts = {"count": len(breaches), "by_queue": {str(first.pk): BREACH_SUMMARY_OVER + 1, str(second.pk): 3}}
    assert by_event[("sla.breaches", frozenset({"wallboard.all"}))] == counts
    assert by_event[("sla.breaches", frozenset({f"team.{team.pk}"}))] == counts
    # the agent holding breached work still hears of it, one by one
    assert by_event[("sla.breached", frozenset({f"agent.{agent.pk}"}))]["interaction"] == held.pk
    assert len(sends) == 3


@pytest.mark.django_db
def test_sla_breach_goes_to_the_queue_team_the_wallboards_and_the_agent_in_one_query(django_assert_num_queries):
    team = TeamFactory()
    queue = QueueFactory(team=team, channels=["chat"])
    agent = AgentFactory(team=TeamFactory())  # a borrowed agent: their own team does not own the queue
    work = lifecycle.interaction_assign(interaction=new_work(queue), agent=agent)
    due = timezone.now()
    with django_assert_num_queries(1):
        ((groups, event, data),) = sla_breach_sends(interaction_id=work.pk, target="first_response", due_at=due)
    assert event == "sla.breached"
    assert groups == {f"team.{team.pk}", "wallboard.all", f"agent.{agent.pk}"}
    assert data == {
        "interaction": work.pk,
        "queue": queue.pk,
        "agent": agent.pk,
        "target": "first_response",
        "due_at": due.isoformat(),
    }


@pytest.mark.django_db
def test_sla_breach_of_a_deleted_interaction_publishes_nothing():
    assert sla_breach_sends(interaction_id=987654, target="resolution", due_at=None) == []


@pytest.mark.django_db
def test_queue_today_figures_are_one_query(django_assert_num_queries):
    queue = QueueFactory(channels=["chat"], sla_policy=first_response_policy(), service_level_seconds=20)
    other = QueueFactory(channels=["chat"])
    answered = lifecycle.interaction_assign(interaction=new_work(queue), agent=AgentFactory())
    lifecycle.interaction_accept(interaction=answered)  # at once: in time
    late = lifecycle.interaction_assign(interaction=new_work(queue), agent=AgentFactory())
    Interaction.objects.filter(pk=late.pk).update(queued_at=timezone.now() - timedelta(minutes=5))
    lifecycle.interaction_accept(interaction=late)
    lifecycle.interaction_abandon(interaction=new_work(queue))
    new_work(queue)  # still waiting: not counted yet
    sla_sweep(now=timezone.now() + timedelta(minutes=2))
    with django_assert_num_queries(1):
        today = live_queue_today(queue_ids=[queue.pk, other.pk])
    # one of three answered in time (one late, one abandoned)
    assert today[queue.pk]["service_level_today"] == pytest.approx(0.333, abs=0.001)
    # nobody replied: one breach row (step 0) per interaction still owed a first response (not the abandoned)
    assert today[queue.pk]["sla_breaches_last_hour"] == 3
    assert today[other.pk] == {"service_level_today": None, "sla_breaches_last_hour": 0}


@pytest.mark.django_db
def test_breaches_older_than_an_hour_leave_the_wallboard():
    queue = QueueFactory(channels=["chat"], sla_policy=first_response_policy())
    breach(queue)
    assert live_queue_today(queue_ids=[queue.pk])[queue.pk]["sla_breaches_last_hour"] == 1
    Escalation.objects.update(created_at=timezone.now() - timedelta(minutes=61))
    assert live_queue_today(queue_ids=[queue.pk])[queue.pk]["sla_breaches_last_hour"] == 0


@pytest.mark.django_db
def test_wallboard_snapshot_marks_agents_on_break():
    from agents.access import viewer_for

    agent, resting = AgentFactory(), AgentFactory()
    brk = break_send_now(agent=resting, actor=None)
    snapshot = live_wallboard_snapshot(viewer=viewer_for(user=AdministratorFactory()))
    by_id = {row["id"]: row for row in snapshot["agents"]}
    assert by_id[agent.pk]["on_break"] is None
    assert by_id[resting.pk]["status"] == AgentStatus.ON_BREAK
    assert by_id[resting.pk]["on_break"] == {
        "id": brk.pk,
        "type_name": brk.break_type.name,
        "ends_at": (brk.started_at + timedelta(minutes=brk.minutes)).isoformat(),
    }


# --- over the sockets ---------------------------------------------------------------------------------


@pytest.fixture
def floor(transactional_db):
    team, other_team = TeamFactory(name="Blue"), TeamFactory(name="Green")
    supervisor = UserFactory(username="sup-blue")
    team.supervisors.add(supervisor)
    return {
        "team": team,
        "queue": QueueFactory(name="Sales", team=team, channels=["chat"], sla_policy=first_response_policy()),
        "a": AgentFactory(name="Ann", team=team),
        "b": AgentFactory(name="Bob", team=team),
        "c": AgentFactory(name="Cid", team=other_team),
        "sup": supervisor,
    }


def names(frames):
    return [f["event"] for f in frames if f["type"] == "event"]


def test_console_hears_its_own_break_and_a_teammate_hears_none_of_it(floor):
    a, b = floor["a"], floor["b"]

    async def scenario():
        socket_a, _ = await connect("/ws/console/", a.user)
        socket_b, _ = await connect("/ws/console/", b.user)
        brk = await db(break_request)(agent=a, break_type=await db(break_type_get)(code=BreakKind.LUNCH), actor=None)
        got = await frames_until(socket_a, lambda f: f.get("event") == "break.requested")
        await db(break_send_now)(agent=a, actor=None)
        got += await frames_until(socket_a, lambda f: f.get("event") == "break.started")
        await db(break_end)(brk=brk, actor=a.user)
        got += await frames_until(socket_a, lambda f: f.get("event") == "break.ended")
        # Bob's own marker: everything published before it has reached him
        await db(agent_set_status)(agent=b, status="available")
        got_b = await frames_until(socket_b, lambda f: f.get("event") == "agent.status_changed")
        got_b += await quiet(socket_b, timeout=0.3)
        await socket_a.disconnect()
        await socket_b.disconnect()
        return brk, got, got_b

    brk, got, got_b = run(scenario)
    assert [n for n in names(got) if n.startswith("break.")] == ["break.requested", "break.started", "break.ended"]
    seqs = [f["seq"] for f in got if f["type"] == "event"]
    assert seqs == list(range(1, len(seqs) + 1))  # one numbering, no gaps
    started = next(f for f in got if f.get("event") == "break.started")["data"]
    assert started["agent"] == a.pk and started["break"]["id"] == brk.pk and started["break"]["ends_at"]
    assert "agent.status_changed" in names(got)  # the badge: on break, then back
    assert not [n for n in names(got_b) if n.startswith("break.")]
    assert all(f["data"].get("id") == b.pk for f in got_b if f.get("event") == "agent.status_changed")


def test_supervisor_wallboard_hears_their_teams_breaks_and_breaches_only(floor):
    a, c = floor["a"], floor["c"]

    async def scenario():
        socket, snapshot = await connect("/ws/wallboard/", floor["sup"])
        await db(break_send_now)(agent=c, actor=None)  # another team
        await db(break_send_now)(agent=a, actor=None)
        got = await frames_until(socket, lambda f: f.get("event") == "break.started")
        work = await db(breach)(floor["queue"])
        got += await frames_until(socket, lambda f: f.get("event") == "sla.breached")
        got += await quiet(socket, timeout=0.3)
        await socket.disconnect()
        return snapshot, work, got

    snapshot, work, got = run(scenario)
    assert snapshot["data"]["queues"][0]["sla_breaches_last_hour"] == 0
    assert "service_level_today" in snapshot["data"]["queues"][0]
    breaks = [f["data"] for f in got if f.get("event", "").startswith("break.")]
    assert [d["agent"] for d in breaks] == [a.pk]
    (breached,) = [f["data"] for f in got if f.get("event") == "sla.breached"]
    assert breached == {**breached, "interaction": work.pk, "queue": floor["queue"].pk, "target": "first_response"}


def test_agent_holding_the_work_hears_its_breach_and_others_do_not(floor):
    a, b = floor["a"], floor["b"]

    async def scenario():
        socket_a, _ = await connect("/ws/console/", a.user)
        socket_b, _ = await connect("/ws/console/", b.user)
        await db(breach)(floor["queue"], agent=a)
        got_a = await frames_until(socket_a, lambda f: f.get("event") == "sla.breached")
        got_b = await quiet(socket_b, timeout=0.5)
        await socket_a.disconnect()
        await socket_b.disconnect()
        return got_a, got_b

    got_a, got_b = run(scenario)
    assert got_a[-1]["data"]["agent"] == a.pk
    assert "sla.breached" not in names(got_b)


def test_due_break_and_training_notices_reach_only_the_agent(floor):
    a, b = floor["a"], floor["b"]
    BreakPolicyFactory(team=floor["team"], continuous_handling_minutes=60)
    AgentStatusLogFactory(agent=a, status=AgentStatus.BUSY, changed_at=timezone.now() - timedelta(minutes=70))
    a.status = AgentStatus.BUSY
    a.save(update_fields=["status"])
    (record,) = training_assign(course=TrainingCourseFactory(title="Payments"), agents=[a]).created
    training_record_result(record=record, score=100)

    async def scenario():
        socket_a, _ = await connect("/ws/console/", a.user)
        socket_b, _ = await connect("/ws/console/", b.user)
        await db(break_due_sweep)()
        got_a = await frames_until(socket_a, lambda f: f.get("event") == "break.due")
        # the reminder sweep's signal, as ``agents.training`` sends it
        await db(training_expiring.send_robust)(sender=Agent, agent=a, record=record, days_left=3)
        got_a += await frames_until(socket_a, lambda f: f.get("event") == "training.expiring")
        got_b = await quiet(socket_b, timeout=0.5)
        await socket_a.disconnect()
        await socket_b.disconnect()
        return got_a, got_b

    got_a, got_b = run(scenario)
    due = next(f for f in got_a if f.get("event") == "break.due")["data"]
    assert due["agent"] == a.pk and due["minutes"] > 0 and "handling" in due["detail"]
    expiring = got_a[-1]["data"]
    assert expiring == {"agent": a.pk, "record": record.pk, "course": "Payments", "days_left": 3}
    assert not [n for n in names(got_b) if n.startswith(("break.", "training."))]
