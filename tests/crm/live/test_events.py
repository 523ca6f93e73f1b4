"""Publishing: what each change sends, to which groups, numbered how, at what cost; and that it never breaks a caller."""

import logging

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from agents.services import agent_set_status
from crm.interactions import services as lifecycle
from crm.interactions.models import Interaction
from crm.interactions.signals import interaction_changed
from crm.live.events import interaction_batch_sends, interaction_sends
from crm.live.selectors import live_queue_stats
from crm.routing.selectors import queues_served_by
from tests.agents.factories import AgentFactory, AgentSkillFactory, SkillFactory, TeamFactory
from tests.contacts.factories import CustomerFactory
from tests.crm.factories import QueueFactory, QueueSkillFactory

pytestmark = pytest.mark.django_db


def new_work(queue, channel="chat"):
    return lifecycle.interaction_create_inbound(channel=channel, customer=CustomerFactory(), queue=queue)


@pytest.fixture
def listen():
    """A channel of the real layer added to the given groups; returns a function reading what it received."""
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()

    def join(*groups):
        for group in groups:
            async_to_sync(layer.group_add)(group, channel)

        def received(count):
            return [async_to_sync(layer.receive)(channel) for _ in range(count)]

        return received

    return join


def test_an_interaction_event_costs_one_query_and_names_the_queues_whose_figures_follow(django_assert_num_queries):
    team = TeamFactory()
    queue, other = QueueFactory(team=team), QueueFactory(team=TeamFactory())
    agent = AgentFactory(team=team)
    work = lifecycle.interaction_assign(interaction=new_work(queue), agent=agent)
    with django_assert_num_queries(1):  # the interaction with its customer and queue; no figures counted here
        sends, queues = interaction_sends(
            interaction_id=work.pk, kind="assigned", from_status="queued", to_status="assigned"
        )
    assert [event for _, event, _ in sends] == ["interaction.assigned"] and queues == {queue.pk}
    assert sends[0][0] == {f"agent.{agent.pk}", f"team.{team.pk}", "wallboard.all"}

    moved = lifecycle.interaction_transfer(interaction=work, to_queue=other)
    with django_assert_num_queries(2):  # a move also reads the team of the queue it left
        sends, queues = interaction_sends(
            interaction_id=moved.pk, kind="transferred", from_status="assigned", to_status="queued"
        )
    # the agent it left and the team of the queue it left hear of it too; both queues' figures follow
    assert sends[0][0] == {f"agent.{agent.pk}", f"team.{team.pk}", f"team.{other.team_id}", "wallboard.all"}
    assert sends[0][2]["agent"] is None and sends[0][2]["queue"] == other.pk
    assert queues == {queue.pk, other.pk}


def test_a_batch_of_assignments_costs_one_query_whatever_its_size(django_assert_num_queries):
    team = TeamFactory()
    queue, other = QueueFactory(team=team), QueueFactory()
    agents = [AgentFactory(team=team) for _ in range(3)]
    work = [new_work(queue), new_work(queue), new_work(other)]
    lifecycle.interaction_assign_many(pairs=list(zip(work, agents, strict=True)))
    changes = [
        {"interaction_id": w.pk, "kind": "assigned", "from_status": "queued", "to_status": "assigned"} for w in work
    ]
    with django_assert_num_queries(1):  # every summary
        sends, queues = interaction_batch_sends(changes=changes)
    # each assignment in order, as one at a time would send it; the affected queues' figures follow once
    assert [(event, data["id"]) for _, event, data in sends] == [("interaction.assigned", w.pk) for w in work]
    assert queues == {queue.pk, other.pk}
    assert sends[0][0] == {f"agent.{agents[0].pk}", f"team.{team.pk}", "wallboard.all"}


def test_a_routed_batch_is_published_once_in_order_with_consecutive_numbers(listen, django_capture_on_commit_callbacks):
    queue = QueueFactory()
    agent = AgentFactory()
    work = [new_work(queue), new_work(queue)]
    received = listen(f"agent.{agent.pk}", f"queue.{queue.pk}")
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.interaction_assign_many(pairs=[(w, agent) for w in work])
    messages = received(3)
    assert [(m["event"], m["data"]["id"]) for m in messages] == [
        ("interaction.assigned", work[0].pk),
        ("interaction.assigned", work[1].pk),
        ("queue.stats", queue.pk),
    ]
    assert messages[1]["gseq"] == messages[0]["gseq"] + 1
    assert messages[2]["data"]["assigned"] == 2 and messages[2]["data"]["waiting"] == 0


def test_queue_figures_are_one_aggregate_over_open_work(django_assert_num_queries):
    queue, empty = QueueFactory(), QueueFactory()
    agent = AgentFactory()
    new_work(queue)
    new_work(queue)
    lifecycle.interaction_assign(interaction=new_work(queue), agent=agent)
    held = lifecycle.interaction_accept(
        interaction=lifecycle.interaction_assign(interaction=new_work(queue), agent=agent)
    )
    lifecycle.interaction_hold(interaction=held)
    done = lifecycle.interaction_accept(
        interaction=lifecycle.interaction_assign(interaction=new_work(queue), agent=agent)
    )
    lifecycle.interaction_resolve(interaction=done)
    with django_assert_num_queries(1):
        stats = live_queue_stats(queue_ids=[queue.pk, empty.pk])
    assert [(s["id"], s["waiting"], s["assigned"], s["active"]) for s in stats] == [
        (queue.pk, 2, 1, 1),
        (empty.pk, 0, 0, 0),
    ]
    assert stats[0]["oldest_waiting_seconds"] >= 0 and stats[1]["oldest_waiting_seconds"] is None


def test_queues_served_by_needs_every_required_skill_at_its_level():
    spanish, billing = SkillFactory(), SkillFactory()
    agent = AgentFactory()
    AgentSkillFactory(agent=agent, skill=spanish, level=3)
    open_to_all = QueueFactory()
    spanish_queue = QueueFactory()
    QueueSkillFactory(queue=spanish_queue, skill=spanish, min_level=3)
    too_hard = QueueFactory()
    QueueSkillFactory(queue=too_hard, skill=spanish, min_level=4)
    both = QueueFactory()
    QueueSkillFactory(queue=both, skill=spanish, min_level=1)
    QueueSkillFactory(queue=both, skill=billing, min_level=1)
    QueueFactory(is_active=False)
    served = set(queues_served_by(agent_id=agent.pk).values_list("id", flat=True))
    assert served == {open_to_all.pk, spanish_queue.pk}


def test_each_message_carries_the_next_number_of_its_group(listen, django_capture_on_commit_callbacks):
    queue = QueueFactory()
    received = listen(f"queue.{queue.pk}")
    with django_capture_on_commit_callbacks(execute=True):
        new_work(queue)
    with django_capture_on_commit_callbacks(execute=True):
        new_work(queue)
    first, second = received(2)
    assert first["event"] == second["event"] == "queue.stats"
    assert second["gseq"] == first["gseq"] + 1
    assert (first["data"]["waiting"], second["data"]["waiting"]) == (1, 2)
    assert first["eid"] != second["eid"]


def test_one_event_sent_to_several_groups_keeps_one_id(listen, django_capture_on_commit_callbacks):
    team = TeamFactory()
    agent = AgentFactory(team=team)
    received = listen(f"agent.{agent.pk}", f"team.{team.pk}")
    with django_capture_on_commit_callbacks(execute=True):
        agent_set_status(agent=agent, status="available")
    one, other = received(2)
    assert {one["group"], other["group"]} == {f"agent.{agent.pk}", f"team.{team.pk}"}
    assert one["eid"] == other["eid"] and one["event"] == "agent.status_changed"
    assert one["data"] == {
        "id": agent.pk,
        "name": agent.name,
        "team": team.pk,
        "status": "available",
        "status_changed_at": agent.status_changed_at.isoformat(),
    }


def test_a_kind_added_later_is_published_by_the_status_it_leads_to(listen):
    """Another service sends a kind this module does not know (as offer timeouts once were): no error, and
    the work that went back to its queue is announced as queued, to the agent it left too."""
    team = TeamFactory()
    queue = QueueFactory(team=team)
    agent = AgentFactory(team=team)
    work = lifecycle.interaction_assign(interaction=new_work(queue), agent=agent)
    Interaction.objects.filter(pk=work.pk).update(status="queued", agent=None)
    received = listen(f"agent.{agent.pk}")
    interaction_changed.send(
        sender=Interaction,
        interaction_id=work.pk,
        kind="sent_back_by_supervisor",
        from_status="assigned",
        to_status="queued",
    )
    (message,) = received(1)
    assert message["event"] == "interaction.queued" and message["data"]["agent"] is None


def test_publishing_failure_is_logged_and_the_change_stands(settings, caplog, django_capture_on_commit_callbacks):
    layers = settings.CHANNEL_LAYERS
    layers["default"]["CONFIG"]["hosts"] = ["redis://127.0.0.1:1/0"]  # nothing listens there
    settings.CHANNEL_LAYERS = layers
    queue = QueueFactory()
    with caplog.at_level(logging.ERROR, logger="crm.live.publisher"), django_capture_on_commit_callbacks(execute=True):
        work = new_work(queue)
    assert Interaction.objects.get(pk=work.pk).status == "queued"
    assert "could not publish interaction.queued" in caplog.text


def test_snapshots_cost_a_fixed_number_of_queries(django_assert_num_queries):
    from agents.access import viewer_for
    from crm.live.selectors import live_console_snapshot, live_wallboard_snapshot

    team = TeamFactory()
    queue = QueueFactory(team=team)
    agent = AgentFactory(team=team)
    for _ in range(5):
        lifecycle.interaction_assign(interaction=new_work(queue), agent=AgentFactory(team=team))
        lifecycle.interaction_assign(interaction=new_work(queue), agent=agent)
    with django_assert_num_queries(3):  # the agent, their work, the queues' figures
        console = live_console_snapshot(agent_id=agent.pk, queue_ids=[queue.pk])
    assert len(console["interactions"]) == 5 and console["agent"]["capacity"]["chat"]["used"] == 5
    supervisor = agent.user
    team.supervisors.add(supervisor)
    viewer = viewer_for(user=supervisor)
    # the queues' live figures, their figures of today (service level, breaches), the same split by inbox, the
    # agents with their breaks
    with django_assert_num_queries(4):
        wallboard = live_wallboard_snapshot(viewer=viewer)
    assert len(wallboard["agents"]) == 6 and wallboard["queues"][0]["assigned"] == 10
