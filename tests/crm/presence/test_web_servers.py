"""Presence across two web servers (separate uvicorn processes), a console socket on each.

The servers are real processes serving the ASGI application on the test database and the test's Redis prefix;
the browser side is a plain websocket client. A server killed with SIGKILL takes its socket down without a close
frame and without telling anybody: the agent stays available while their socket on the other server lives, and
goes offline (their offer going to another agent) once that one is gone too — here cut without a close frame.
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect as ws_connect

from agents.choices import AgentStatus
from agents.models import Agent, AgentStatusLog
from agents.services import agent_set_status
from crm.choices import InteractionStatus
from crm.interactions import services as lifecycle
from crm.presence.services import presence_sweep
from crm.routing.services.router import route_pending
from tests.agents.factories import AgentFactory, TeamFactory
from tests.contacts.factories import CustomerFactory
from tests.crm.factories import QueueFactory
from tests.crm.live.conftest import session_headers
from tests.support.ports import free_port

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[3]
GRACE, TIMEOUT = 1.0, 3.0


def _database_url() -> str:
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s["PASSWORD"] else ""
    return f"postgres://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class WebServer:
    """``uvicorn config.asgi:application`` in a process of its own."""

    def __init__(self, layer_config: dict, sockets: contextlib.ExitStack):
        self.sockets = sockets
        self.port = free_port()
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": _database_url(),
            "CHANNELS_REDIS_URL": layer_config["hosts"][0],
            "SWITCHBOARD_INSTANCE": layer_config["prefix"],
            "SWITCHBOARD_PRESENCE_GRACE_SECONDS": str(GRACE),
            "SWITCHBOARD_PRESENCE_TIMEOUT_SECONDS": str(TIMEOUT),
        }
        command = [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1"]
        command += ["--port", str(self.port), "--lifespan", "off", "--log-level", "warning"]
        self.process = subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: S603
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1).close()  # noqa: S310
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.kill()
                    pytest.fail(f"the web server on port {self.port} did not start")
                time.sleep(0.2)

    def console(self, user):
        headers = dict((k.decode(), v.decode()) for k, v in session_headers(user, origin=b"http://127.0.0.1"))
        url = f"ws://127.0.0.1:{self.port}/ws/console/"
        ws = self.sockets.enter_context(ws_connect(url, additional_headers=headers, open_timeout=10))
        assert '"snapshot"' in ws.recv(timeout=10)
        return ws

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)


@pytest.fixture
def servers(settings, live_layer):
    settings.SWITCHBOARD_PRESENCE_GRACE_SECONDS = GRACE
    settings.SWITCHBOARD_PRESENCE_TIMEOUT_SECONDS = TIMEOUT
    started = []
    with contextlib.ExitStack() as sockets:

        def start():
            started.append(WebServer(django_settings.CHANNEL_LAYERS["default"]["CONFIG"], sockets))
            return started[-1]

        try:
            yield start
        finally:
            for server in started:
                server.kill()


def _cut(ws) -> None:
    """Drop the connection the way a lost network or a closed laptop does: no close frame."""
    ws.socket.shutdown(socket.SHUT_RDWR)
    ws.socket.close()


def _sweep_until(done, *, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, "the sweep did not act in time"
        presence_sweep()
        time.sleep(0.2)


def test_two_web_servers_a_socket_on_each(servers):
    team = TeamFactory()
    queue = QueueFactory(team=team, channels=["chat"])
    ann, bob = AgentFactory(name="Ann", team=team), AgentFactory(name="Bob", team=team)
    agent_set_status(agent=ann, status=AgentStatus.AVAILABLE)
    work = lifecycle.interaction_create_inbound(channel="chat", queue=queue, customer=CustomerFactory())
    assert route_pending() == 1
    one, two = servers(), servers()
    one.console(ann.user)
    on_two = two.console(ann.user)
    agent_set_status(agent=bob, status=AgentStatus.AVAILABLE)

    one.kill()  # the socket on it is gone without a close frame, and nobody told Redis
    watched_until = time.monotonic() + TIMEOUT + GRACE + 2
    while time.monotonic() < watched_until:
        on_two.send('{"type": "ping"}')  # the console's heartbeat, on the server still up
        assert "pong" in on_two.recv(timeout=5)
        presence_sweep()
        time.sleep(0.5)
    assert Agent.objects.get(pk=ann.pk).status == AgentStatus.AVAILABLE
    work.refresh_from_db()
    assert work.agent_id == ann.pk

    _cut(on_two)
    _sweep_until(lambda: Agent.objects.get(pk=ann.pk).status == AgentStatus.OFFLINE, seconds=TIMEOUT + GRACE + 10)

    assert AgentStatusLog.objects.filter(agent=ann, reason="disconnected").count() == 1
    assert route_pending() == 1
    work.refresh_from_db()
    assert (work.status, work.agent_id) == (InteractionStatus.ASSIGNED, bob.pk)


def test_a_server_stopping_tells_its_sockets_to_reconnect_and_presence_survives_the_move(servers):
    ann = AgentFactory(name="Ann")
    agent_set_status(agent=ann, status=AgentStatus.AVAILABLE)
    one, two = servers(), servers()
    on_one = one.console(ann.user)

    one.process.send_signal(signal.SIGTERM)  # a deploy: the process manager stops the old server
    with pytest.raises(ConnectionClosed) as closed:
        on_one.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1012  # "service restart": come back
    # uvicorn finishes its shutdown, then re-raises the signal it got (so a supervisor sees why it stopped)
    assert one.process.wait(timeout=15) in (0, -signal.SIGTERM)

    on_two = two.console(ann.user)  # what live.js does on 1012, at once
    watched_until = time.monotonic() + TIMEOUT + GRACE + 2
    while time.monotonic() < watched_until:
        on_two.send('{"type": "ping"}')
        assert "pong" in on_two.recv(timeout=5)
        presence_sweep()
        time.sleep(0.5)
    assert Agent.objects.get(pk=ann.pk).status == AgentStatus.AVAILABLE
    assert not AgentStatusLog.objects.filter(agent=ann, reason="disconnected").exists()
