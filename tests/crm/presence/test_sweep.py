"""Presence follows the console: the sweep against real console sockets (ASGI app, real Redis, real database).

Time is the sweep's ``now`` argument: the grace period (60 s) and the silence timeout (75 s) are passed by asking
the sweep about a later moment, never by sleeping.
"""

import threading
import time

import pytest

from agents.choices import AgentStatus
from agents.models import Agent, AgentStatusLog
from agents.services import agent_set_status
from crm.choices import InteractionEventKind, InteractionStatus
from crm.interactions import services as lifecycle
from crm.interactions.models import Interaction, InteractionEvent
from crm.live.presence import presence_connected
from crm.presence.services import presence_sweep
from crm.routing.services.router import route_pending
from tests.agents.factories import AgentFactory, TeamFactory, UserFactory
from tests.contacts.factories import CustomerFactory
from tests.crm.factories import QueueFactory, interaction_in_status
from tests.crm.live.conftest import connect, db, frames_until, run

pytestmark = [pytest.mark.django_db(transaction=True)]

S, A = InteractionStatus, AgentStatus
GRACE, TIMEOUT = 60, 75


def later(seconds: float) -> float:
    return time.time() + seconds


@pytest.fixture
def floor():
    team = TeamFactory(name="Blue")
    queue = QueueFactory(name="Chat", team=team, channels=["chat"])
    ann, bob = AgentFactory(name="Ann", team=team), AgentFactory(name="Bob", team=team)
    supervisor = UserFactory(username="sup")
    team.supervisors.add(supervisor)
    agent_set_status(agent=ann, status=A.AVAILABLE)
    return {"team": team, "queue": queue, "ann": ann, "bob": bob, "sup": supervisor}


def status(agent) -> str:
    return Agent.objects.get(pk=agent.pk).status


def offer_to(agent, queue) -> Interaction:
    """Work offered to ``agent`` (the only one available) and not accepted yet."""
    work = lifecycle.interaction_create_inbound(channel="chat", queue=queue, customer=CustomerFactory())
    assert route_pending() == 1
    work.refresh_from_db()
    assert (work.status, work.agent_id) == (S.ASSIGNED, agent.pk)
    return work


def offered_then_gone(ann, queue) -> Interaction:
    """Ann opens the console, is offered work, and closes the console."""

    async def scenario():
        socket, _ = await connect("/ws/console/", ann.user)
        work = await db(offer_to)(ann, queue)
        await socket.disconnect()
        return work

    return run(scenario)


def test_an_agent_whose_console_closed_goes_offline_after_the_grace_period_and_their_offer_goes_to_another(floor):
    ann, bob, queue = floor["ann"], floor["bob"], floor["queue"]

    work = offered_then_gone(ann, queue)
    agent_set_status(agent=bob, status=A.AVAILABLE)

    assert presence_sweep(now=later(GRACE - 5)) == 0  # still within the grace period
    assert status(ann) == A.AVAILABLE

    assert presence_sweep(now=later(GRACE + 1)) == 1
    assert status(ann) == A.OFFLINE
    log = AgentStatusLog.objects.filter(agent=ann).latest("changed_at")
    assert (log.previous_status, log.status, log.reason) == (A.AVAILABLE, A.OFFLINE, "disconnected")
    work.refresh_from_db()
    assert (work.status, work.agent_id) == (S.QUEUED, None)
    withdrawn = InteractionEvent.objects.get(interaction=work, kind=InteractionEventKind.OFFER_WITHDRAWN)
    assert withdrawn.agent_id == ann.pk

    assert route_pending() == 1
    work.refresh_from_db()
    assert (work.status, work.agent_id) == (S.ASSIGNED, bob.pk)
    assert presence_sweep(now=later(GRACE * 10)) == 0  # reported once


def test_a_reconnect_within_the_grace_period_changes_nothing(floor):
    ann, queue = floor["ann"], floor["queue"]

    async def scenario():
        first, _ = await connect("/ws/console/", ann.user)
        work = await db(offer_to)(ann, queue)
        await first.disconnect()
        second, _ = await connect("/ws/console/", ann.user)  # a reload, a network blip
        gone = await db(presence_sweep)(now=later(GRACE + 1))
        connected = await db(presence_connected)(agent_id=ann.pk)
        await second.disconnect()
        return work, gone, connected

    work, gone, connected = run(scenario)

    assert (gone, connected) == (0, 1)
    assert status(ann) == A.AVAILABLE
    work.refresh_from_db()
    assert (work.status, work.agent_id) == (S.ASSIGNED, ann.pk)
    assert not AgentStatusLog.objects.filter(agent=ann, reason="disconnected").exists()


def test_a_console_that_falls_silent_without_closing_counts_as_gone(floor):
    """A dead network or a dead web server closes nothing: the socket's entry expires after the timeout."""
    ann = floor["ann"]

    async def scenario():
        socket, _ = await connect("/ws/console/", ann.user)
        early = await db(presence_sweep)(now=later(TIMEOUT + GRACE - 5))
        await socket.send_json_to({"type": "ping"})  # a heartbeat moves the entry forward
        await frames_until(socket, lambda f: f["type"] == "pong")
        kept = await db(presence_sweep)(now=later(TIMEOUT + GRACE - 1))
        gone = await db(presence_sweep)(now=later(TIMEOUT + GRACE + 1))
        await socket.disconnect()
        return early, kept, gone

    assert run(scenario) == (0, 0, 1)
    assert status(ann) == A.OFFLINE


def test_open_chats_stay_with_the_agent_and_are_flagged_on_the_team_wallboard(floor):
    ann, queue, supervisor = floor["ann"], floor["queue"], floor["sup"]
    chat = interaction_in_status(S.ACTIVE, agent=ann, queue=queue)
    email_queue = QueueFactory(team=floor["team"], channels=["email"])
    mail = interaction_in_status(S.ACTIVE, agent=ann, queue=email_queue, channel="email")

    async def scenario():
        console, _ = await connect("/ws/console/", ann.user)
        await console.disconnect()
        wallboard, _ = await connect("/ws/wallboard/", supervisor)
        await db(presence_sweep)(now=later(GRACE + 1))
        frames = await frames_until(wallboard, lambda f: f.get("event") == "agent.disconnected")
        await wallboard.disconnect()
        return frames[-1]["data"]

    data = run(scenario)

    assert data == {"agent": ann.pk, "name": "Ann", "interactions": [chat.pk]}
    chat.refresh_from_db()
    assert (chat.status, chat.agent_id) == (S.ACTIVE, ann.pk)
    assert InteractionEvent.objects.filter(interaction=chat, kind=InteractionEventKind.AGENT_DISCONNECTED).count() == 1
    assert not InteractionEvent.objects.filter(interaction=mail, kind=InteractionEventKind.AGENT_DISCONNECTED).exists()


def test_an_agent_who_never_opened_the_console_is_left_alone(floor):
    """Agents driven through the API (a softphone's integration) have no console socket to lose."""
    assert presence_sweep(now=later(GRACE * 100)) == 0
    assert status(floor["ann"]) == A.AVAILABLE


def test_an_agent_on_a_break_keeps_it_and_goes_offline_when_back_without_a_console(floor):
    ann = floor["ann"]

    async def scenario():
        socket, _ = await connect("/ws/console/", ann.user)
        await socket.disconnect()

    run(scenario)
    agent_set_status(agent=ann, status=A.ON_BREAK)
    assert presence_sweep(now=later(GRACE + 1)) == 0
    assert status(ann) == A.ON_BREAK

    agent_set_status(agent=ann, status=A.AVAILABLE)
    assert presence_sweep(now=later(3 * GRACE)) == 1
    assert status(ann) == A.OFFLINE


def test_two_sweeps_at_once_take_the_agent_offline_once(floor):
    ann, queue = floor["ann"], floor["queue"]

    work = offered_then_gone(ann, queue)
    moment, results = later(GRACE + 1), []
    barrier = threading.Barrier(2)

    def sweep():
        from django.db import connection

        barrier.wait()
        try:
            results.append(presence_sweep(now=moment))
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == [0, 1]
    assert AgentStatusLog.objects.filter(agent=ann, reason="disconnected").count() == 1
    assert InteractionEvent.objects.filter(interaction=work, kind=InteractionEventKind.OFFER_WITHDRAWN).count() == 1
