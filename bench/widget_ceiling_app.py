"""The ceiling for ``bench/widget.py``: the least a chat over this stack does, speaking the bench driver's protocol.

The same servers (uvicorn for the sockets, granian for the agents' API), Django Channels with the plain
``channels_redis`` layer on the same Redis, the same database through the same psycopg pool, but no middleware, no
auth, no routing, no outbox and no sequence numbers: each message is one bare ``INSERT`` and one ``group_send``.

- ``/ws/widget/<key>/``: ``hello`` opens a conversation (one INSERT; its agent is its number modulo the number of
  agents) and answers a ``snapshot`` naming it; each ``message`` is stored and sent to its agent's group as
  ``message.created``.
- ``/ws/console/``: the agent is the position of the ``sessionid`` cookie in ``BENCH_AGENT_SESSIONS`` (the bench's
  sessions, comma-separated); the socket hears its group's events.
- ``POST /api/v1/interactions/<id>/messages/`` (WSGI): the reply is stored and sent to the visitor's group; the
  process's one event loop thread sends it (as Switchboard's publisher does), not a new loop per request.

Serve: ``uvicorn bench.widget_ceiling_app:application`` and ``granian --interface wsgi
bench.widget_ceiling_app:wsgi_application`` with ``DATABASE_URL``, ``REDIS_URL``, ``SECRET_KEY`` and
``BENCH_AGENT_SESSIONS`` set (``bench/widget.py`` does it), after ``python bench/widget_ceiling_app.py`` made
its two tables.
"""

import asyncio
import json
import threading
from http.cookies import SimpleCookie

import environ
from django.conf import settings

env = environ.Env()

if not settings.configured:
    database = env.db_url("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/bench_widget")
    database["CONN_MAX_AGE"] = 0
    database.setdefault("OPTIONS", {})["pool"] = {
        "min_size": 2,
        "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=8),
        "timeout": 10,
    }
    settings.configure(
        DEBUG=False,
        SECRET_KEY=env.str("SECRET_KEY"),
        ALLOWED_HOSTS=["127.0.0.1"],
        ROOT_URLCONF=__name__,
        DATABASES={"default": database},
        INSTALLED_APPS=["channels"],
        MIDDLEWARE=[],
        USE_TZ=True,
        CHANNEL_LAYERS={
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                # the read timeout above channels-redis' 5-s blocking pop, as config.settings.channels sets it
                # (with redis-py's default of 5 s an idle socket's receive loop crashes)
                "CONFIG": {
                    "hosts": [env.str("REDIS_URL", default="redis://127.0.0.1:6379/15") + "?socket_timeout=30"],
                    "prefix": f"bench-ceiling-{env.str('BENCH_CEILING_PREFIX', default='widget')}",
                },
            }
        },  # fmt: skip
    )

import django  # noqa: E402

django.setup()

from channels.db import database_sync_to_async  # noqa: E402
from channels.generic.websocket import AsyncJsonWebsocketConsumer  # noqa: E402
from channels.layers import get_channel_layer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.core.asgi import get_asgi_application  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.db import connection  # noqa: E402
from django.http import HttpRequest, JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402

AGENT_SESSIONS = [key for key in env.str("BENCH_AGENT_SESSIONS", default="").split(",") if key]


def create_tables() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS bench_widget_ceiling_conversation"
            " (id serial PRIMARY KEY, created_at timestamptz NOT NULL)"
        )
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS bench_widget_ceiling_message (id bigserial PRIMARY KEY,"
            " conversation integer NOT NULL REFERENCES bench_widget_ceiling_conversation, direction text NOT NULL,"
            " body text NOT NULL, created_at timestamptz NOT NULL)"
        )


def _store(conversation: int, direction: str, body: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_widget_ceiling_message (conversation, direction, body, created_at)"
            " VALUES (%s, %s, %s, now()) RETURNING id",
            [conversation, direction, body],
        )
        return cursor.fetchone()[0]


def _open_conversation() -> tuple[int, int]:
    """A new conversation and its agent (the agents in turn)."""
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_widget_ceiling_conversation (created_at) VALUES (now()) RETURNING id")
        conversation = cursor.fetchone()[0]
    return conversation, conversation % max(len(AGENT_SESSIONS), 1)


class WidgetConsumer(AsyncJsonWebsocketConsumer):
    conversation: int | None = None

    async def receive_json(self, content, **kwargs):
        if content.get("type") == "hello" and self.conversation is None:
            self.conversation, self.agent = await database_sync_to_async(_open_conversation)()
            await self.channel_layer.group_add(f"v.{self.conversation}", self.channel_name)
            await self.send_json({"type": "snapshot", "data": {"conversation": self.conversation}})
        elif content.get("type") == "message" and self.conversation is not None:
            message = await database_sync_to_async(_store)(self.conversation, "inbound", str(content.get("body", "")))
            data = {"message": message, "interaction": self.conversation}
            await self.channel_layer.group_send(f"a.{self.agent}", {"type": "relay", "event": "message.created",
                                                                    "data": data})  # fmt: skip

    async def relay(self, event):
        await self.send_json({"type": "event", "event": event["event"], "data": event["data"]})


class ConsoleConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        cookie = SimpleCookie()
        cookie.load(dict(self.scope["headers"]).get(b"cookie", b"").decode())
        session = cookie["sessionid"].value if "sessionid" in cookie else ""
        if session not in AGENT_SESSIONS:
            await self.close(code=4401)
            return
        await self.accept()
        await self.channel_layer.group_add(f"a.{AGENT_SESSIONS.index(session)}", self.channel_name)
        await self.send_json({"type": "snapshot", "data": {}})

    async def relay(self, event):
        await self.send_json({"type": "event", "event": event["event"], "data": event["data"]})


class _Sender:
    """One event loop thread per process for the WSGI view's group sends (a loop per request would also open a
    Redis connection per request, which no production code does)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True, name="ceiling-sender").start()

    def send(self, group: str, message: dict) -> None:
        asyncio.run_coroutine_threadsafe(get_channel_layer().group_send(group, message), self.loop).result(timeout=5)


_sender: _Sender | None = None
_sender_lock = threading.Lock()


def reply(request: HttpRequest, conversation: int) -> JsonResponse:
    global _sender
    if request.method != "POST":
        return JsonResponse({"detail": "POST only."}, status=405)
    try:
        body = str(json.loads(request.body)["body"])
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"detail": "A JSON body with 'body' expected."}, status=400)
    message = _store(conversation, "outbound", body)
    with _sender_lock:
        _sender = _sender or _Sender()
    _sender.send(f"v.{conversation}", {"type": "relay", "event": "message", "data": {"from": "agent", "body": body}})
    return JsonResponse({"id": message, "body": body}, status=201)


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


urlpatterns = [path("api/v1/interactions/<int:conversation>/messages/", reply), path("healthz", healthz)]

application = ProtocolTypeRouter(
    {
        "http": get_asgi_application(),
        "websocket": URLRouter(
            [
                path("ws/widget/<str:key>/", WidgetConsumer.as_asgi()),
                path("ws/console/", ConsoleConsumer.as_asgi()),
            ]
        ),
    }
)
wsgi_application = get_wsgi_application()


if __name__ == "__main__":
    create_tables()
