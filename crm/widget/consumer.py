"""``/ws/widget/<public key>/``: one visitor's socket (protocol binding for ``static/widget/widget.js``).

- Connect: accepted, then checked: an unknown or deactivated widget closes 4404; a page whose ``Origin`` is not in
  the inbox's ``allowed_origins`` gets ``{"type": "error", "code": "origin"}`` and close 4403 (accepted first so
  the widget sees the code and can say why it cannot load).
- The client's first frame: ``{"type": "hello", "token": <visitor token or null>, "identity": {email, hmac} or
  null, "profile": {"name", "email"}, "language": navigator.language}``. Answered ``{"type": "welcome", "token",
  "prechat": [...], "verified": bool, "language", "texts": {...}}`` (the token to keep: a new one when it named
  nobody; the widget's texts in the visitor's language, ``texts.py``), then the snapshot. An identity refused
  (wrong signature, or none while the inbox requires one): an error frame ``identity`` and close 4401.
- Server → client, the console's discipline (``crm.live.consumers``): ``{"type": "snapshot", "seq": 0, "data":
  {conversation, status, messages, rating, available}}``, then ``{"type": "event", "seq": n, "event":
  "message" | "status" | "typing", "data"}``, n = 1, 2… with no gaps. Events carry the visitor group's Redis
  counter; one numbered at or below the counter read at the snapshot is skipped, one past a hole waits for the
  late one (``crm.live.ordering``), and a hole that stays open sends a fresh snapshot.
  A client that reconnects gets a snapshot and replaces its state: nothing lost, nothing twice.
- Close 4000: reconnect (the socket reached ``SWITCHBOARD_WS_MAX_AGE_SECONDS``, less up to a tenth, as the
  console's sockets do); the widget reconnects and gets a snapshot.
- Client → server: ``message`` {client_id, body}; ``typing``; ``resync``; ``ping``; ``rate`` {conversation,
  score, comment}; ``email_followup`` {email} (offline: continue by e-mail; answered ``{"type":
  "email_followup", "email"}``); ``transcript`` {email} (answered ``{"type": "transcript", "email"}``, mailed
  after commit). A refused message is answered ``{"type": "error", "code", "message", "client_id"}`` and
  nothing is stored.
- Language: every message to the visitor (texts, refusals, errors) is in the ``hello`` frame's ``language``, else the
  handshake's ``Accept-Language`` (``texts.visitor_language``), else English.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext

from crm.live.dispatch import DirectDispatch
from crm.live.ordering import GroupOrder, HoleWatch
from crm.live.publisher import agent_group, apublish, counter_key, gathered

from .adapter import visitor_group
from .followup import widget_continue_by_email
from .selectors import message_payload, widget_conversation, widget_snapshot
from .services import (
    WidgetRefused,
    widget_check_limits,
    widget_check_prechat,
    widget_link_identity,
    widget_message_receive,
    widget_note_prechat_email,
    widget_rate,
)
from .texts import accept_language, visitor_language, widget_texts
from .transcript import widget_transcript_request
from .visitors import IdentityRefused, identity_verified, inbox_by_public_key, origin_allowed, visitor_for

logger = logging.getLogger(__name__)

CLOSE_RECONNECT = 4000
CLOSE_UNKNOWN = 4404
CLOSE_ORIGIN = 4403
CLOSE_IDENTITY = 4401
HELLO_TIMEOUT_SECONDS = 10.0


def _origin(scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"origin":
            return value.decode("latin-1")
    return ""


class WidgetConsumer(DirectDispatch, HoleWatch, AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        self.inbox = None
        self.visitor = None
        self.group = None
        self.order = GroupOrder()  # the visitor group's last number delivered; early events held back
        self.hole_check: asyncio.Task | None = None
        self.seq = 0
        self.lock = asyncio.Lock()
        self.profile: dict[str, str] = {}
        self.language = visitor_language(accept=accept_language(self.scope))
        await self.accept()
        with translation.override(self.language):
            await self.check_widget()

    async def check_widget(self) -> None:
        key = self.scope["url_route"]["kwargs"]["public_key"]
        self.inbox = await database_sync_to_async(inbox_by_public_key)(key)
        if self.inbox is None:
            await self.send_json({"type": "error", "code": "unknown", "message": gettext("This chat does not exist.")})
            await self.close(code=CLOSE_UNKNOWN)
            return
        if not origin_allowed(inbox=self.inbox, origin=_origin(self.scope)):
            await self.send_json(
                {"type": "error", "code": "origin", "message": gettext("This chat is not enabled for this website.")}
            )
            await self.close(code=CLOSE_ORIGIN)
            self.inbox = None
            return
        self.hello_timer = asyncio.get_running_loop().call_later(HELLO_TIMEOUT_SECONDS, self._hello_late)

    @classmethod
    async def decode_json(cls, text_data):
        try:
            return json.loads(text_data)
        except ValueError:
            return None  # a malformed frame is ignored, never the socket's end

    def _hello_late(self) -> None:
        if self.visitor is None and self.inbox is not None:
            asyncio.ensure_future(self.close(code=CLOSE_IDENTITY))

    async def disconnect(self, code) -> None:
        timers = ("hello_timer", "recycle_timer", "hole_check")
        for timer in (getattr(self, name, None) for name in timers):
            if timer is not None:
                timer.cancel()
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs) -> None:
        if self.inbox is None or not isinstance(content, dict):
            return
        kind = content.get("type")
        if self.visitor is None:
            if kind == "hello":
                self.language = visitor_language(asked=content.get("language"), accept=accept_language(self.scope))
                with translation.override(self.language):  # refusals are made in the visitor's language
                    await self.hello(content)
            return
        handler = {
            "message": self.visitor_message,
            "typing": self.visitor_typing,
            "resync": lambda _: self.send_snapshot(),
            "ping": lambda _: self.send_json({"type": "pong"}),
            "rate": self.visitor_rate,
            "email_followup": self.visitor_email_followup,
            "transcript": self.visitor_transcript,
        }.get(kind)
        if handler is not None:
            with translation.override(self.language):
                await handler(content)

    # --- hello ---------------------------------------------------------------------------------------------

    async def hello(self, content: dict) -> None:
        self.hello_timer.cancel()
        try:
            email = await database_sync_to_async(identity_verified)(inbox=self.inbox, identity=content.get("identity"))
        except IdentityRefused as exc:
            await self.send_json(
                {
                    "type": "error",
                    "code": "identity",
                    "message": gettext("Chat unavailable: %(reason)s.") % {"reason": exc},
                }
            )
            await self.close(code=CLOSE_IDENTITY)
            return
        profile = content.get("profile") if isinstance(content.get("profile"), dict) else {}
        self.profile = {name: str(profile.get(name) or "")[:200] for name in ("name", "email")}
        visitor = visitor_for(inbox=self.inbox, token=content.get("token"))
        if email:
            await database_sync_to_async(widget_link_identity)(
                visitor_id=visitor.id, email=email, name=self.profile["name"]
            )
        self.visitor = visitor
        self.group = visitor_group(visitor.id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.send_json(
            {
                "type": "welcome",
                "token": visitor.token,
                "prechat": (self.inbox.settings or {}).get("prechat", []),
                "verified": bool(email),
                "language": self.language,
                "texts": widget_texts(self.language),
            }
        )
        await self.send_snapshot()
        # recycled like the console's sockets, before channels-redis forgets the group membership (group_expiry)
        age = settings.SWITCHBOARD_WS_MAX_AGE_SECONDS * (1 - random.random() / 10)  # noqa: S311 — spreading only
        self.recycle_timer = asyncio.get_running_loop().call_later(age, self._recycle)

    def _recycle(self) -> None:
        asyncio.ensure_future(self.close(code=CLOSE_RECONNECT))

    # --- snapshot and events --------------------------------------------------------------------------------

    async def send_snapshot(self) -> None:
        async with self.lock:
            value = await self.channel_layer.connection(0).get(counter_key(self.group))
            # after joining, before reading: later events arrive here
            released = self.order.reset({self.group: int(value or 0)})
            data = await database_sync_to_async(widget_snapshot, thread_sensitive=False)(
                inbox=self.inbox, visitor_id=self.visitor.id
            )
            self.seq = 0
            await self.send_json({"type": "snapshot", "seq": 0, "data": data})
            for message in released:
                await self.forward(message)
            self.watch_holes()

    async def live_event(self, message: dict[str, Any]) -> None:
        """The visitor group's numbered events in order; one held back past a hole waits for it (``crm.live.ordering``)."""
        async with self.lock:
            for event in self.order.accept(self.group, message["gseq"], message):
                await self.forward(event)
            self.watch_holes()

    async def forward(self, message: dict[str, Any]) -> None:
        self.seq += 1
        event = message["event"].removeprefix("widget.")
        await self.send_json({"type": "event", "seq": self.seq, "event": event, "data": message["data"]})

    # --- what the visitor does -------------------------------------------------------------------------------

    async def visitor_message(self, content: dict) -> None:
        client_id = str(content.get("client_id") or "")[:64]
        body = content.get("body")
        if not client_id or not isinstance(body, str):
            await self.send_json({"type": "error", "code": "invalid", "message": "A message needs a body."})
            return
        try:
            # Not on the process's one thread-sensitive thread, which the database work of every socket of this
            # worker shares (an HTTP request gets a thread of its own): one visitor's message waited behind all the
            # others'. This socket's frames are still handled one after the other, so its messages keep their order.
            sends = await database_sync_to_async(self._store, thread_sensitive=False)(client_id=client_id, body=body)
        except WidgetRefused as exc:
            await self.send_json({"type": "error", "code": exc.code, "message": exc.message, "client_id": client_id})
            return
        # committed: the import's events (the agent's console) and the message to every tab of the visitor, in one
        # send from this loop; shielded, so a socket closing meanwhile cannot keep them from the console
        await asyncio.shield(apublish(sends))

    def _store(self, *, client_id: str, body: str) -> list[tuple[set[str], str, dict[str, Any]]]:
        """Limits, then the import; the events it causes, the stored message's last (none for a resend of one stored
        before), for the caller to send."""
        address = (self.scope.get("client") or ("unknown",))[0]
        widget_check_limits(inbox=self.inbox, visitor_id=self.visitor.id, address=address, body=body)
        widget_check_prechat(inbox=self.inbox, visitor_id=self.visitor.id, profile=self.profile)
        with gathered() as sends:  # what the commit's receivers publish (the console's message.created, routing…)
            receipt = widget_message_receive(
                inbox=self.inbox, visitor_id=self.visitor.id, body=body, client_id=client_id, name=self.profile["name"]
            )
            if receipt.new_interaction and self.profile["email"]:
                widget_note_prechat_email(customer=receipt.interaction.customer, email=self.profile["email"])
        if receipt.created:
            sends.append(({self.group}, "widget.message", message_payload(receipt.message) | {"client_id": client_id}))
        return sends

    async def visitor_typing(self, content: dict) -> None:
        conversation = await database_sync_to_async(widget_conversation, thread_sensitive=False)(
            inbox=self.inbox, visitor_id=self.visitor.id
        )
        if conversation is not None and conversation.agent_id:
            data = {"interaction_id": conversation.pk}
            await apublish([({agent_group(conversation.agent_id)}, "visitor.typing", data)])

    async def visitor_email_followup(self, content: dict) -> None:
        try:
            await database_sync_to_async(widget_continue_by_email)(
                inbox=self.inbox, visitor_id=self.visitor.id, email=str(content.get("email") or "")[:254]
            )
        except WidgetRefused as exc:
            await self.send_json({"type": "error", "code": exc.code, "message": exc.message})
            return
        await self.send_json({"type": "email_followup", "email": str(content.get("email")).strip().lower()})

    async def visitor_transcript(self, content: dict) -> None:
        address = (self.scope.get("client") or ("unknown",))[0]
        try:
            email = await database_sync_to_async(widget_transcript_request)(
                inbox=self.inbox, visitor_id=self.visitor.id, address=address, email=str(content.get("email") or "")
            )
        except WidgetRefused as exc:
            await self.send_json({"type": "error", "code": exc.code, "message": exc.message})
            return
        await self.send_json({"type": "transcript", "email": email})

    async def visitor_rate(self, content: dict) -> None:
        try:
            await database_sync_to_async(widget_rate)(
                inbox=self.inbox,
                visitor_id=self.visitor.id,
                interaction_id=content.get("conversation"),
                score=content.get("score"),
                comment=content.get("comment") or "",
            )
        except WidgetRefused as exc:
            await self.send_json({"type": "error", "code": exc.code, "message": exc.message})
            return
        await self.send_snapshot()
