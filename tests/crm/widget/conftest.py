"""Widget socket tests: the full ASGI application over the real Redis channel layer and a real database."""

import copy
import json
import os

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings

from crm.inboxes.models import Inbox
from crm.widget.adapter import ChatAdapter
from tests.crm.factories import QueueFactory

SHOP = "http://shop.example.test"


@pytest.fixture(autouse=True)
def live_layer(settings):
    layers = copy.deepcopy(django_settings.CHANNEL_LAYERS)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    layers["default"]["CONFIG"]["prefix"] = f"switchboard-widget-test-{worker}"
    settings.CHANNEL_LAYERS = layers
    return layers


@pytest.fixture(autouse=True)
def clean_limits():
    """The widget's counters are real Redis keys: each test starts with none of this installation's (another
    installation's on the same Redis, such as a benchmark's, are left alone)."""
    import redis

    from crm.widget.services import widget_key

    client = redis.Redis.from_url(django_settings.REDIS_URL)
    for key in client.scan_iter(widget_key("*")):
        client.delete(key)
    yield


def chat_inbox(**settings) -> Inbox:
    queue = QueueFactory(channels=["chat"])
    cleaned = ChatAdapter.validate_settings({"allowed_origins": [SHOP], **settings})
    return Inbox.objects.create(name="Site chat", channel="chat", adapter="chat", queue=queue, settings=cleaned)


def run(scenario, *args, **kwargs):
    return async_to_sync(scenario)(*args, **kwargs)


async def open_widget(inbox_key: str, *, origin: str = SHOP) -> WebsocketCommunicator:
    from config.asgi import application

    socket = WebsocketCommunicator(application, f"/ws/widget/{inbox_key}/", headers=[(b"origin", origin.encode())])
    connected, _ = await socket.connect(timeout=5)
    assert connected
    return socket


async def hello(socket, *, token=None, identity=None, profile=None) -> tuple[dict, dict]:
    """Send hello; answer the welcome and the snapshot."""
    await socket.send_json_to({"type": "hello", "token": token, "identity": identity, "profile": profile or {}})
    welcome = await socket.receive_json_from(timeout=5)
    assert welcome["type"] == "welcome", welcome
    snapshot = await socket.receive_json_from(timeout=5)
    assert snapshot["type"] == "snapshot" and snapshot["seq"] == 0
    return welcome, snapshot


def is_message(body):
    return lambda frame: frame.get("type") == "event" and frame["event"] == "message" and frame["data"]["body"] == body


async def visitor_wrote(inbox: Inbox, *, name: str, body: str) -> WebsocketCommunicator:
    """A visitor's open widget socket, after their first message (``body``) came back to it: a conversation waits."""
    socket = await open_widget(inbox.settings["public_key"])
    await hello(socket, profile={"name": name})
    await socket.send_json_to({"type": "message", "client_id": "c1", "body": body})
    await frames_until(socket, is_message(body))
    return socket


async def frames_until(socket, predicate, *, timeout: float = 5) -> list[dict]:
    """Frames up to and including the first matching ``predicate``."""
    seen = []
    while True:
        frame = await socket.receive_json_from(timeout=timeout)
        seen.append(frame)
        if predicate(frame):
            return seen


def dumps(value) -> str:
    return json.dumps(value)


async def quiet(socket, *, timeout: float = 0.5) -> list[dict]:
    """The frames that arrive until none has for ``timeout`` seconds."""
    frames = []
    while not await socket.receive_nothing(timeout=timeout):
        frames.append(await socket.receive_json_from())
    return frames
