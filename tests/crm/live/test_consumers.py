"""The live websockets end to end: ASGI application, session auth, Origin check, real Redis layer, real services."""

import threading
import time

import pytest
from asgiref.sync import async_to_sync
from channels.layers import DEFAULT_CHANNEL_LAYER, channel_layers
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone

from agents.services import agent_set_status
from crm.choices import OWNED_STATUSES, InteractionStatus
from crm.interactions import services as lifecycle
from crm.interactions.models import Interaction
from crm.live.publisher import counter_key
from tests.agents.factories import (
    AdministratorFactory,
    AgentFactory,
    AgentSkillFactory,
    SkillFactory,
    TeamFactory,
    UserFactory,
)
from tests.contacts.factories import CustomerFactory
from tests.crm.factories import QueueFactory, QueueSkillFactory

from .conftest import connect, db, frames_until, open_socket, quiet, run

pytestmark = pytest.mark.django_db(transaction=True)

S = InteractionStatus


@pytest.fixture
def floor():
    """Two teams. Team 1: agents A and B, queue 1 (no skills) and queue 3 (needs a skill A lacks), a supervisor.
    Team 2: agent C, queue 2, its own supervisor."""
    team1, team2 = TeamFactory(name="Blue"), TeamFactory(name="Green")
    skill = SkillFactory(name="Spanish")
    queue1 = QueueFactory(name="Sales", team=team1, channels=["chat", "email"])
    queue2 = QueueFactory(name="Support", team=team2, channels=["chat"])
    queue3 = QueueFactory(name="Ventas", team=team1, channels=["chat"])
    QueueSkillFactory(queue=queue3, skill=skill, min_level=4)
    agent_a = AgentFactory(name="Ann", team=team1, capacity={"chat": 2, "email": 3})
    AgentSkillFactory(agent=agent_a, skill=skill, level=2)
    agent_b = AgentFactory(name="Bob", team=team1)
    agent_c = AgentFactory(name="Cid", team=team2)
    supervisor1, supervisor2 = UserFactory(username="sup1"), UserFactory(username="sup2")
    team1.supervisors.add(supervisor1)
    team2.supervisors.add(supervisor2)
    return {
        "team1": team1,
        "team2": team2,
        "queue1": queue1,
        "queue2": queue2,
        "queue3": queue3,
        "a": agent_a,
        "b": agent_b,
        "c": agent_c,
        "sup1": supervisor1,
        "sup2": supervisor2,
        "admin": AdministratorFactory(username="boss"),
        "staff": UserFactory(username="staff", is_staff=True),  # supervises nothing
    }


def new_work(queue, **kwargs):
    return lifecycle.interaction_create_inbound(
        channel=kwargs.pop("channel", "chat"), customer=CustomerFactory(), queue=queue, subject="Help", **kwargs
    )


def events(frames):
    return [(f["seq"], f["event"]) for f in frames if f["type"] == "event"]


# --- who may connect ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/ws/console/", "/ws/wallboard/"])
def test_anonymous_socket_is_closed_with_4401(path):
    async def scenario():
        socket = await open_socket(path)
        connected, _ = await socket.connect()
        assert connected  # accepted first, so that a browser sees the code
        assert await socket.receive_output() == {"type": "websocket.close", "code": 4401}

    run(scenario)


def test_foreign_origin_is_refused_before_anything_is_sent(floor):
    async def scenario():
        socket = await open_socket("/ws/console/", floor["a"].user, origin=b"https://evil.example.com")
        connected, _ = await socket.connect()
        assert not connected

    run(scenario)


def test_user_without_agent_profile_is_refused_the_console(floor):
    async def scenario():
        socket = await open_socket("/ws/console/", floor["sup1"])
        await socket.connect()
        assert await socket.receive_output() == {"type": "websocket.close", "code": 4403}

    run(scenario)


def test_staff_user_who_supervises_nothing_is_refused_the_wallboard(floor):
    async def scenario():
        socket = await open_socket("/ws/wallboard/", floor["staff"])
        await socket.connect()
        assert await socket.receive_output() == {"type": "websocket.close", "code": 4403}

    run(scenario)


def test_agent_who_supervises_nothing_is_refused_the_wallboard(floor):
    async def scenario():
        socket = await open_socket("/ws/wallboard/", floor["a"].user)
        await socket.connect()
        assert await socket.receive_output() == {"type": "websocket.close", "code": 4403}

    run(scenario)


# --- snapshots ----------------------------------------------------------------------------------------


def test_console_snapshot_shows_the_agents_work_capacity_and_served_queues(floor):
    a, b = floor["a"], floor["b"]
    mine = lifecycle.interaction_accept(
        interaction=lifecycle.interaction_assign(interaction=new_work(floor["queue1"]), agent=a)
    )
    offered = lifecycle.interaction_assign(interaction=new_work(floor["queue1"], channel="email"), agent=a)
    lifecycle.interaction_assign(interaction=new_work(floor["queue1"]), agent=b)  # Bob's
    new_work(floor["queue1"])  # waiting
    new_work(floor["queue2"])  # another team's queue

    async def scenario():
        socket, snapshot = await connect("/ws/console/", a.user)
        await socket.disconnect()
        return snapshot["data"]

    data = run(scenario)
    assert data["agent"]["id"] == a.pk and data["agent"]["name"] == "Ann" and data["agent"]["status"] == "offline"
    assert data["agent"]["capacity"] == {"chat": {"used": 1, "max": 2}, "email": {"used": 1, "max": 3}}
    assert [(i["id"], i["status"]) for i in data["interactions"]] == [(mine.pk, "active"), (offered.pk, "assigned")]
    first = data["interactions"][0]
    assert first["customer"] == {"id": mine.customer_id, "name": mine.customer.name}
    assert first["queue"] == floor["queue1"].pk and first["agent"] == a.pk and first["accepted_at"]
    # queue 3 needs Spanish at 4 (Ann has 2); queue 2 has no requirement, so Ann can serve it too
    assert [(q["id"], q["waiting"], q["assigned"], q["active"]) for q in data["queues"]] == [
        (floor["queue1"].pk, 1, 2, 1),
        (floor["queue2"].pk, 1, 0, 0),
    ]
    assert data["queues"][0]["oldest_waiting_seconds"] >= 0


def test_supervisor_wallboard_shows_only_their_teams(floor):
    new_work(floor["queue1"])
    new_work(floor["queue2"])

    async def scenario(user):
        socket, snapshot = await connect("/ws/wallboard/", user)
        await socket.disconnect()
        return snapshot["data"]

    data = run(scenario, floor["sup1"])
    assert sorted(q["id"] for q in data["queues"]) == sorted([floor["queue1"].pk, floor["queue3"].pk])
    assert sorted(a["id"] for a in data["agents"]) == sorted([floor["a"].pk, floor["b"].pk])
    assert {a["team"] for a in data["agents"]} == {floor["team1"].pk}
    everything = run(scenario, floor["admin"])
    assert len(everything["queues"]) == 3 and len(everything["agents"]) == 3


# --- events -------------------------------------------------------------------------------------------


def test_console_receives_each_kind_of_event_numbered_without_gaps(floor):
    a, queue = floor["a"], floor["queue1"]

    async def scenario():
        socket, _ = await connect("/ws/console/", a.user)
        work = await db(new_work)(queue)
        got = await frames_until(socket, lambda f: f.get("event") == "queue.stats")
        await db(agent_set_status)(agent=a, status="available")
        got += await frames_until(socket, lambda f: f.get("event") == "agent.status_changed")
        work = await db(lifecycle.interaction_assign)(interaction=work, agent=a)
        got += await frames_until(socket, lambda f: f.get("event") == "queue.stats")
        await db(lifecycle.interaction_accept)(interaction=work)
        got += await frames_until(socket, lambda f: f.get("event") == "queue.stats")
        await db(lifecycle.interaction_update)(interaction=work, subject="Refund")
        got += await frames_until(socket, lambda f: f.get("event") == "interaction.updated")
        await db(lifecycle.interaction_resolve)(interaction=work, disposition="solved")
        got += await frames_until(socket, lambda f: f.get("event") == "queue.stats")
        got += await quiet(socket, timeout=0.3)
        await socket.disconnect()
        return got

    got = run(scenario)
    # the queued work is not Ann's: she sees the queue's figure move, not the interaction
    assert events(got) == list(
        enumerate(
            [
                "queue.stats",
                "agent.status_changed",
                "interaction.assigned",
                "queue.stats",
                "interaction.updated",
                "queue.stats",
                "interaction.updated",
                "interaction.resolved",
                "queue.stats",
            ],
            start=1,
        )
    )
    assert got[0]["data"]["waiting"] == 1
    assert got[1]["data"] == {**got[1]["data"], "id": a.pk, "status": "available", "team": floor["team1"].pk}
    assert got[2]["data"]["status"] == "assigned" and got[2]["data"]["agent"] == a.pk
    assert got[3]["data"] == {**got[3]["data"], "waiting": 0, "assigned": 1, "active": 0}
    assert got[6]["data"]["subject"] == "Refund"
    assert got[7]["data"]["status"] == "resolved"


def test_agent_never_receives_another_agents_interactions(floor):
    a, b, queue = floor["a"], floor["b"], floor["queue1"]

    async def scenario():
        socket, _ = await connect("/ws/console/", a.user)
        work = await db(new_work)(queue)
        work = await db(lifecycle.interaction_assign)(interaction=work, agent=b)
        work = await db(lifecycle.interaction_accept)(interaction=work)
        await db(lifecycle.interaction_update)(interaction=work, subject="Private matter")
        await db(lifecycle.interaction_resolve)(interaction=work)
        # a marker of Ann's own, so that everything sent before it has arrived
        await db(agent_set_status)(agent=a, status="available")
        got = await frames_until(socket, lambda f: f.get("event") == "agent.status_changed")
        await socket.disconnect()
        return got

    got = run(scenario)
    assert {f["event"] for f in got} == {"queue.stats", "agent.status_changed"}
    assert "Private matter" not in str(got)


def test_transfer_tells_the_agent_the_work_left_and_the_receiver_it_arrived(floor):
    a, b, queue = floor["a"], floor["b"], floor["queue1"]
    agent_set_status(agent=b, status="available")
    work = lifecycle.interaction_accept(interaction=lifecycle.interaction_assign(interaction=new_work(queue), agent=a))

    async def scenario():
        socket_a, _ = await connect("/ws/console/", a.user)
        socket_b, _ = await connect("/ws/console/", b.user)
        await db(lifecycle.interaction_transfer)(interaction=work, to_agent=b)
        got_a = await frames_until(socket_a, lambda f: f.get("event") == "interaction.assigned")
        got_b = await frames_until(socket_b, lambda f: f.get("event") == "interaction.assigned")
        await socket_a.disconnect()
        await socket_b.disconnect()
        return got_a[-1]["data"], got_b[-1]["data"]

    seen_by_a, seen_by_b = run(scenario)
    assert seen_by_a["agent"] == seen_by_b["agent"] == b.pk  # Ann learns it is no longer hers


def test_supervisor_receives_their_teams_events_and_not_other_teams(floor):
    async def scenario():
        socket, _ = await connect("/ws/wallboard/", floor["sup1"])
        await db(new_work)(floor["queue2"])  # team 2
        await db(agent_set_status)(agent=floor["c"], status="available")  # team 2
        mine = await db(new_work)(floor["queue1"])
        got = await frames_until(socket, lambda f: f.get("event") == "queue.stats")
        await db(agent_set_status)(agent=floor["b"], status="available")
        got += await frames_until(socket, lambda f: f.get("event") == "agent.status_changed")
        got += await quiet(socket, timeout=0.3)
        await socket.disconnect()
        return mine, got

    mine, got = run(scenario)
    assert events(got) == [(1, "interaction.queued"), (2, "queue.stats"), (3, "agent.status_changed")]
    assert got[0]["data"]["id"] == mine.pk
    assert got[1]["data"]["id"] == floor["queue1"].pk
    assert got[2]["data"]["id"] == floor["b"].pk


def test_supervisor_of_one_team_hears_nothing_of_the_other_teams_queues_while_an_administrator_does(floor):
    """Both wallboards open at once: the administrator's proves team 2's events were published; the supervisor
    of team 1 gets only team 1's, with no gap in the numbering (nothing of team 2 was sent and dropped)."""

    async def scenario():
        lead, _ = await connect("/ws/wallboard/", floor["sup1"])
        boss, _ = await connect("/ws/wallboard/", floor["admin"])
        theirs = await db(new_work)(floor["queue2"])
        await db(agent_set_status)(agent=floor["c"], status="available")
        heard_by_boss = await frames_until(boss, lambda f: f.get("event") == "agent.status_changed")
        mine = await db(new_work)(floor["queue1"])
        heard_by_lead = await frames_until(lead, lambda f: f.get("event") == "queue.stats")
        heard_by_lead += await quiet(lead, timeout=0.3)
        await lead.disconnect()
        await boss.disconnect()
        return theirs, mine, heard_by_boss, heard_by_lead

    theirs, mine, heard_by_boss, heard_by_lead = run(scenario)
    assert theirs.pk in {f["data"].get("id") for f in heard_by_boss if f.get("event") == "interaction.queued"}
    assert floor["queue2"].pk in {f["data"]["id"] for f in heard_by_boss if f.get("event") == "queue.stats"}
    assert events(heard_by_lead) == [(1, "interaction.queued"), (2, "queue.stats")]
    assert [f["data"]["id"] for f in heard_by_lead] == [mine.pk, floor["queue1"].pk]


def test_event_sent_to_two_of_a_wallboards_groups_arrives_once(floor):
    """A supervisor of both teams watches work transferred from a team-1 queue to a team-2 queue."""
    floor["team2"].supervisors.add(floor["sup1"])
    work = lifecycle.interaction_assign(interaction=new_work(floor["queue1"]), agent=floor["a"])

    async def scenario():
        socket, _ = await connect("/ws/wallboard/", floor["sup1"])
        await db(lifecycle.interaction_transfer)(interaction=work, to_queue=floor["queue2"])
        got = await quiet(socket, timeout=0.5)
        await socket.disconnect()
        return got

    got = run(scenario)
    assert [name for _, name in events(got)].count("interaction.queued") == 1
    assert sorted(f["data"]["id"] for f in got if f["event"] == "queue.stats") == sorted(
        [floor["queue1"].pk, floor["queue2"].pk]
    )
    assert [f["seq"] for f in got] == list(range(1, len(got) + 1))


# --- client frames, resync, age -----------------------------------------------------------------------


def test_resync_answers_a_fresh_snapshot_and_numbering_restarts(floor):
    a, queue = floor["a"], floor["queue1"]

    async def scenario():
        socket, first = await connect("/ws/console/", a.user)
        await db(new_work)(queue)
        await frames_until(socket, lambda f: f.get("event") == "queue.stats")
        await socket.send_json_to({"type": "ping"})
        assert await socket.receive_json_from() == {"type": "pong"}
        await socket.send_json_to({"type": "resync"})
        second = await socket.receive_json_from()
        await db(new_work)(queue)
        after = await frames_until(socket, lambda f: f.get("event") == "queue.stats")
        await socket.send_to(text_data="not json")
        error = await socket.receive_json_from()
        await socket.disconnect()
        return first, second, after, error

    first, second, after, error = run(scenario)
    assert first["data"]["queues"][0]["waiting"] == 0
    assert second["type"] == "snapshot" and second["seq"] == 0 and second["data"]["queues"][0]["waiting"] == 1
    assert after[0]["seq"] == 1 and after[0]["data"]["waiting"] == 2
    assert error["type"] == "error" and "resync" in error["message"]


def test_socket_is_closed_for_reconnection_at_its_maximum_age(floor, settings):
    settings.SWITCHBOARD_WS_MAX_AGE_SECONDS = 1

    async def scenario():
        socket, _ = await connect("/ws/console/", floor["a"].user)
        return await socket.receive_output(timeout=3)

    assert run(scenario) == {"type": "websocket.close", "code": 4000}


def test_group_expiry_outlives_the_oldest_socket(settings):
    from config.settings import channels

    config = channels.CHANNEL_LAYERS["default"]["CONFIG"]
    assert config["group_expiry"] >= 2 * channels.SWITCHBOARD_WS_MAX_AGE_SECONDS


# --- lost messages ------------------------------------------------------------------------------------


def expected_console(agent) -> dict:
    """The console's state read straight from the tables, to compare a snapshot with."""
    owned = Interaction.objects.filter(agent=agent, status__in=sorted(OWNED_STATUSES))
    figures = {}
    for queue_id, status in Interaction.objects.filter(status__in=[S.QUEUED, *OWNED_STATUSES]).values_list(
        "queue_id", "status"
    ):
        row = figures.setdefault(queue_id, {"waiting": 0, "assigned": 0, "active": 0})
        key = {"queued": "waiting", "assigned": "assigned"}.get(status, "active")
        row[key] += 1
    return {
        "interactions": sorted(owned.values_list("id", "status", "updated_at")),
        "figures": figures,
    }


def seen_console(data) -> dict:
    from datetime import datetime

    return {
        "interactions": sorted(
            (i["id"], i["status"], datetime.fromisoformat(i["updated_at"])) for i in data["interactions"]
        ),
        "figures": {
            q["id"]: {"waiting": q["waiting"], "assigned": q["assigned"], "active": q["active"]}
            for q in data["queues"]
            if q["waiting"] or q["assigned"] or q["active"]
        },
    }


def churn(*, agent, queue, events: int, seconds: float = 0.0) -> None:
    """Change interactions through the services until ``events`` events were published and ``seconds`` passed.

    Work arrives, is assigned to the agent, accepted, updated and resolved; some stays half-way, so the end
    state has work in every status.
    """
    published, started, n = 0, time.monotonic(), 0
    while published < events or time.monotonic() - started < seconds:
        n += 1
        work = new_work(queue)  # interaction.queued + queue.stats (only the stats reach the console)
        published += 2
        if n % 5 == 0:
            continue
        work = lifecycle.interaction_assign(interaction=work, agent=agent)
        published += 2
        if n % 5 == 1:
            continue
        work = lifecycle.interaction_accept(interaction=work)
        lifecycle.interaction_update(interaction=work, subject=f"Case {n}", priority=1 + n % 4)
        published += 3
        if n % 5 == 2:
            continue
        lifecycle.interaction_resolve(interaction=work)
        published += 2


class Reader(threading.Thread):
    """A listener that keeps reading a group, on a layer instance and event loop of its own, up to ``last``."""

    def __init__(self, group: str):
        super().__init__(daemon=True)
        self.group, self.received, self.ready, self.last = group, [], threading.Event(), None

    def run(self) -> None:
        async_to_sync(self.read)()

    async def read(self) -> None:
        layer = channel_layers.make_backend(DEFAULT_CHANNEL_LAYER)
        channel = await layer.new_channel()
        await layer.group_add(self.group, channel)
        self.ready.set()
        while self.last is None or not self.received or self.received[-1]["gseq"] < self.last:
            self.received.append(await layer.receive(channel))
        await layer.group_discard(self.group, channel)


def group_counter(group: str) -> int:
    from redis import Redis

    client = Redis.from_url(django_settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0])
    return int(client.get(counter_key(group)) or 0)


def test_flooded_socket_notices_lost_events_and_resyncs_to_the_database_state(floor, settings):
    """The socket's channel holds 5 messages; the event loop is held while 60 events are published, so most
    are dropped for this socket, and for this socket only: a listener that keeps reading the same group gets
    every one. The next event reveals the jump to the socket, and the consumer sends a snapshot."""
    layers = settings.CHANNEL_LAYERS
    layers["default"]["CONFIG"]["capacity"] = 5
    settings.CHANNEL_LAYERS = layers
    a, queue = floor["a"], floor["queue1"]

    def flood():
        try:
            churn(agent=a, queue=queue, events=60)
        finally:
            connection.close()

    reader = Reader(f"queue.{queue.pk}")
    reader.start()
    assert reader.ready.wait(5)
    start = group_counter(reader.group)

    async def scenario():
        socket, _ = await connect("/ws/console/", a.user)
        publisher = threading.Thread(target=flood)
        publisher.start()
        publisher.join()  # blocks this event loop: the socket reads nothing meanwhile
        reader.last = group_counter(reader.group)
        got = await quiet(socket, timeout=0.5)  # what the channel held
        await db(new_work)(queue)
        got += await frames_until(socket, lambda f: f["type"] == "snapshot", timeout=5)
        got += await quiet(socket, timeout=0.5)
        await socket.disconnect()
        return got

    got = run(scenario)
    snapshots = [f for f in got if f["type"] == "snapshot"]
    before = got[: got.index(snapshots[0])]
    assert len(before) <= 6  # the channel's capacity (and one already in flight), not the 60 sent
    assert [f["seq"] for f in before] == list(range(1, len(before) + 1))
    assert seen_console(snapshots[-1]["data"]) == expected_console(a)
    reader.join(5)
    assert not reader.is_alive(), "the reading listener lost messages too"
    numbers = [m["gseq"] for m in reader.received]
    assert numbers == list(range(start + 1, start + 1 + len(numbers))) and numbers[-1] >= reader.last
    assert reader.last - start > 20


def test_events_lost_at_the_end_of_a_burst_are_noticed_by_the_periodic_check(floor, settings):
    layers = settings.CHANNEL_LAYERS
    layers["default"]["CONFIG"]["capacity"] = 5
    settings.CHANNEL_LAYERS = layers
    settings.SWITCHBOARD_WS_GAP_CHECK_SECONDS = 0.3
    a, queue = floor["a"], floor["queue1"]

    def flood():
        try:
            churn(agent=a, queue=queue, events=40)
        finally:
            connection.close()

    async def scenario():
        socket, _ = await connect("/ws/console/", a.user)
        publisher = threading.Thread(target=flood)
        publisher.start()
        publisher.join()
        # nothing is published after the burst: only the counters in Redis tell what is missing
        got = await frames_until(socket, lambda f: f["type"] == "snapshot", timeout=5)
        await socket.disconnect()
        return got

    got = run(scenario)
    assert seen_console(got[-1]["data"]) == expected_console(a)


@pytest.mark.slow
def test_reconnecting_after_ten_seconds_of_missed_events_shows_exactly_the_database_state(floor):
    a, queue = floor["a"], floor["queue1"]
    agent_set_status(agent=a, status="available")

    async def scenario():
        socket, before = await connect("/ws/console/", a.user)
        await socket.disconnect()
        started = timezone.now()
        await db(churn)(agent=a, queue=queue, events=500, seconds=10)
        assert (timezone.now() - started).total_seconds() >= 10
        socket, after = await connect("/ws/console/", a.user)
        await socket.disconnect()
        return before, after

    before, after = run(scenario)
    assert before["data"]["interactions"] == []
    assert seen_console(after["data"]) == expected_console(a)
    assert len(after["data"]["interactions"]) > 20
    assert after["data"]["agent"]["capacity"]["chat"]["used"] == len(after["data"]["interactions"])
