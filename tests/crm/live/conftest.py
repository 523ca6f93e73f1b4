"""Live websocket tests: the full ASGI application over the real Redis channel layer and a real database.

Consumers read the database through ``database_sync_to_async``, which closes connections inside a test's
transaction, and events are published on commit: so the socket tests commit (``transaction=True``). They are
plain functions running their scenario with ``async_to_sync``; database work inside a scenario goes through
``database_sync_to_async`` and so runs the real services, whose signals publish through the real layer.
"""

import asyncio
import copy
import os
import uuid

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from django.test import Client
from redis import Redis

from crm.live.publisher import MESSAGE_TYPE, counter_key

ORIGIN = b"http://testserver"


@pytest.fixture(autouse=True)
def live_layer(settings):
    """The real Redis layer, under a prefix of its own per xdist worker: two workers' databases hand out the
    same ids, and their groups (``agent.3``) must not meet in the shared Redis database."""
    layers = copy.deepcopy(django_settings.CHANNEL_LAYERS)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    layers["default"]["CONFIG"]["prefix"] = f"switchboard-test-{worker}"
    settings.CHANNEL_LAYERS = layers
    settings.SWITCHBOARD_WS_GAP_CHECK_SECONDS = 30.0
    return layers


def run(scenario, *args, **kwargs):
    """Run an async scenario from a synchronous test."""
    return async_to_sync(scenario)(*args, **kwargs)


def session_headers(user, *, origin: bytes = ORIGIN) -> list[tuple[bytes, bytes]]:
    """Headers of a browser signed in as ``user``: a real session made by logging in through a test client."""
    client = Client()
    client.force_login(user)
    name = django_settings.SESSION_COOKIE_NAME
    cookie = f"{name}={client.cookies[name].value}".encode()
    return [(b"cookie", cookie), (b"origin", origin)]


async def open_socket(path: str, user=None, *, origin: bytes = ORIGIN) -> WebsocketCommunicator:
    from config.asgi import application

    headers = await database_sync_to_async(session_headers)(user, origin=origin) if user else [(b"origin", origin)]
    return WebsocketCommunicator(application, path, headers=headers)


async def connect(path: str, user) -> tuple[WebsocketCommunicator, dict]:
    """A connected socket and its first frame (the snapshot)."""
    socket = await open_socket(path, user)
    connected, _ = await socket.connect(timeout=5)
    assert connected
    snapshot = await socket.receive_json_from(timeout=5)
    assert snapshot["type"] == "snapshot" and snapshot["seq"] == 0
    return socket, snapshot


async def frames_until(socket: WebsocketCommunicator, done, *, timeout: float = 5.0) -> list[dict]:
    """Frames received until ``done(frame)`` is true for one (included); fails after ``timeout`` seconds."""
    frames: list[dict] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        remaining = deadline - loop.time()
        assert remaining > 0, f"gave up waiting; got {frames}"
        frame = await socket.receive_json_from(timeout=remaining)
        frames.append(frame)
        if done(frame):
            return frames


async def quiet(socket: WebsocketCommunicator, *, timeout: float = 0.5) -> list[dict]:
    """The frames that arrive until none has for ``timeout`` seconds (a receive timing out would end the app)."""
    frames = []
    while not await socket.receive_nothing(timeout=timeout):
        frames.append(await socket.receive_json_from())
    return frames


def db(fn):
    """Run ``fn`` (the services, factories) in the test's database thread from a scenario."""
    return database_sync_to_async(fn)


def reserve(group: str, n: int) -> list[int]:
    """Take ``n`` numbers of the group's counter, as ``n`` publishers would before sending."""
    client = Redis.from_url(django_settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0])
    return [client.incr(counter_key(group)) for _ in range(n)]


def event(group: str, gseq: int, text: str) -> dict:
    """A numbered live event of ``group`` as the publisher sends it (an agent status change saying ``text``)."""
    data = {"status": text}
    return {"type": MESSAGE_TYPE, "eid": uuid.uuid4().hex, "event": "agent.status", "data": data, "group": group,
            "gseq": gseq}  # fmt: skip
