"""Live websockets: ``/ws/console/`` (an agent) and ``/ws/wallboard/`` (a supervisor or an administrator).

Protocol (binding for the browser client and the benchmark; events are built in ``crm.live.events``):

- Auth: the session (``AuthMiddlewareStack``), the Origin checked against ``ALLOWED_HOSTS``. Anonymous: the
  socket is accepted and closed with 4401; signed in but not allowed (no agent profile for the console,
  neither an administrator nor a team's supervisor for the wallboard; ``is_staff`` counts for nothing): 4403. (Accepted first so that a browser sees
  the code; a refused handshake only shows 1006.) What a socket receives is derived from the session
  user alone; a client cannot ask for anybody else's stream.
- Server → client: ``{"type": "snapshot", "seq": 0, "data": {...}}`` first, then
  ``{"type": "event", "seq": n, "event": "<name>", "data": {...}}`` with n = 1, 2, 3… per snapshot, no gaps;
  ``{"type": "pong"}``; ``{"type": "error", "message": "..."}``. A new snapshot (seq 0) may come at any
  time: the client replaces its state with it, and the events after it count from 1 again.
- Client → server: ``{"type": "resync"}`` (answered with a snapshot), ``{"type": "ping"}`` (``pong``).
- Close 4429: the user already has ``SWITCHBOARD_WS_MAX_PER_USER`` live sockets open (``crm.live.socket_limits``);
  a client should not retry at once.
- Close 4000 means "reconnect": the socket reached ``SWITCHBOARD_WS_MAX_AGE_SECONDS`` (less up to a tenth,
  at random, to spread reconnections). Sockets are closed
  before channels-redis forgets their group memberships (``group_expiry``, set to at least twice that age),
  which would otherwise leave an open socket that silently receives nothing.

Lost messages. channels-redis delivers at most once (a channel over its ``capacity`` loses messages, e.g.
when this socket cannot keep up), and a lost message never reaches the consumer. Every published message
therefore carries its group's counter from Redis (``gseq``, see ``crm.live.publisher``). At each snapshot the
consumer joins its groups, then reads the groups' counters, then reads the database: a message numbered
at or below that counter is already in the snapshot and is skipped; above it, the next one of each group
is expected. An event past a hole is held back for up to ``REORDER_WAIT_SECONDS`` (``crm.live.ordering``): two
publishers numbering one group at the same moment may deliver out of order, and the late one fills the hole. A
hole still open after that means messages were lost: the consumer sends a fresh snapshot by itself (the client
needs no gap logic of its own, though a client ``resync`` is always answered). Losses at the end of a burst
have no later message to reveal them, so every ``SWITCHBOARD_WS_GAP_CHECK_SECONDS`` the consumer compares
the counters in Redis with what it received: a counter still ahead after a whole interval means lost
messages, and a snapshot follows.

Consumers hold no logic beyond that: snapshots and payloads come from ``crm.live.selectors``, who may see
what from ``agents.access``.
"""

import asyncio
import contextlib
import json
import logging
import random
from collections import deque
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from agents.access import Viewer, viewer_for
from config.metrics import websockets_open
from crm.routing.selectors import queues_served_by

from .dispatch import DirectDispatch
from .ordering import GroupOrder, HoleWatch
from .presence import presence_beat, presence_join, presence_leave
from .publisher import WALLBOARD_ALL, agent_group, counter_key, queue_group, team_group
from .selectors import live_console_snapshot, live_wallboard_snapshot
from .socket_limits import CLOSE_TOO_MANY_SOCKETS, slot_release, slot_renew, slot_take

logger = logging.getLogger(__name__)

CLOSE_RECONNECT = 4000
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
# Event ids remembered to forward an event sent to two of this socket's groups once.
RECENT_EVENTS = 512
# A client's resyncs are answered at most this often (each is a few queries): a client looping on resync
# waits instead of loading the database.
MIN_RESYNC_INTERVAL_SECONDS = 1.0


class LiveConsumer(DirectDispatch, HoleWatch, AsyncJsonWebsocketConsumer):
    """Authenticate, join the viewer's groups, send a snapshot, relay numbered events; see the module doc."""

    socket = "live"  # the kind, as /metrics counts open sockets

    def allowed(self, viewer: Viewer) -> bool:
        raise NotImplementedError

    def groups_and_snapshot(self, viewer: Viewer) -> tuple[set[str], Any]:
        """The groups to be in and a callable building the snapshot data (both run in a database thread)."""
        raise NotImplementedError

    def plan_snapshot(self) -> tuple[set[str], Any] | None:
        """Who the user is now (rights change: a resync or reconnect picks that up); None if no longer allowed."""
        self.viewer = viewer_for(user=self.scope["user"])
        return self.groups_and_snapshot(self.viewer) if self.allowed(self.viewer) else None

    # --- connection ----------------------------------------------------------------------------------

    async def connect(self) -> None:
        self.joined: set[str] = set()
        self.order = GroupOrder()  # the last number delivered per group, early events held back (crm.live.ordering)
        self.hole_check: asyncio.Task | None = None
        self.suspects: dict[str, int] = {}
        self.recent: deque[str] = deque()
        self.recent_ids: set[str] = set()
        self.seq = 0
        self.last_resync = 0.0
        self.lock = asyncio.Lock()
        self.watchdog: asyncio.Task | None = None
        self.slot_user_id: int | None = None
        await self.accept()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.viewer = await database_sync_to_async(viewer_for)(user=user)
        if not self.allowed(self.viewer):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        # --- sockets per user (crm.live.socket_limits) ---
        if not await slot_take(self.channel_layer, user_id=user.pk, channel_name=self.channel_name):
            await self.close(code=CLOSE_TOO_MANY_SOCKETS)
            return
        self.slot_user_id = user.pk
        websockets_open.labels(self.socket).inc()
        await self.send_snapshot()
        await self.opened()
        self.watchdog = asyncio.create_task(self.watch())

    async def opened(self) -> None:
        """The socket is accepted and has its snapshot (a subclass may note that someone is there)."""

    async def heard(self) -> None:
        """A frame came from the browser."""

    async def closing(self) -> None:
        """An opened socket is closing, with or without a close frame."""

    async def disconnect(self, code) -> None:
        for task in (self.watchdog, getattr(self, "hole_check", None)):
            if task is not None:
                task.cancel()
        for group in self.joined:
            with contextlib.suppress(Exception):
                await self.channel_layer.group_discard(group, self.channel_name)
        self.joined = set()
        if getattr(self, "slot_user_id", None) is not None:
            try:
                await self.closing()
            except Exception:
                logger.exception("live socket: could not record its closing")
            with contextlib.suppress(Exception):  # else the slot expires by itself
                await slot_release(self.channel_layer, user_id=self.slot_user_id, channel_name=self.channel_name)
            self.slot_user_id = None
            websockets_open.labels(self.socket).dec()

    async def watch(self) -> None:
        """Close at the maximum age; meanwhile look for messages lost at the end of a burst."""
        loop = asyncio.get_running_loop()
        # up to a tenth earlier, so the sockets opened together (after a deploy) do not all come back together
        closes_at = loop.time() + settings.SWITCHBOARD_WS_MAX_AGE_SECONDS * (1 - random.random() / 10)  # noqa: S311
        interval = settings.SWITCHBOARD_WS_GAP_CHECK_SECONDS
        while (remaining := closes_at - loop.time()) > 0:
            await asyncio.sleep(min(interval, remaining))
            if loop.time() < closes_at:
                try:
                    await self.check_counters()
                except Exception:
                    logger.exception("live socket: counter check failed")
                try:
                    if self.slot_user_id is not None:
                        await slot_renew(self.channel_layer, user_id=self.slot_user_id, channel_name=self.channel_name)
                except Exception:
                    logger.exception("live socket: could not renew its slot")
        await self.close(code=CLOSE_RECONNECT)

    # --- snapshot and events -------------------------------------------------------------------------

    async def read_counters(self, groups: list[str]) -> list[int]:
        values = await self.channel_layer.connection(0).mget([counter_key(group) for group in groups])
        return [int(value or 0) for value in values]

    async def send_snapshot(self) -> None:
        async with self.lock:
            # off the thread-sensitive thread that every socket of this worker shares: a snapshot is a few queries
            plan = await database_sync_to_async(self.plan_snapshot, thread_sensitive=False)()
            if plan is None:
                await self.close(code=CLOSE_FORBIDDEN)
                return
            groups, build = plan
            for group in groups - self.joined:
                await self.channel_layer.group_add(group, self.channel_name)
            for group in self.joined - groups:
                await self.channel_layer.group_discard(group, self.channel_name)
            self.joined = groups
            # counters after joining and before reading: what is numbered up to here is in the snapshot,
            # anything numbered later arrives here
            ordered = sorted(groups)
            released = self.order.reset(dict(zip(ordered, await self.read_counters(ordered), strict=True)))
            self.suspects = {}
            data = await database_sync_to_async(build, thread_sensitive=False)()
            self.seq = 0
            await self.send_json({"type": "snapshot", "seq": 0, "data": data})
            for message in released:  # held back before, numbered after what the snapshot read
                await self.forward(message)
            self.watch_holes()

    async def check_counters(self) -> None:
        ordered = sorted(self.joined)
        if not ordered:
            return
        counters = dict(zip(ordered, await self.read_counters(ordered), strict=True))
        lost = [g for g, n in self.suspects.items() if self.order.last.get(g, n) < n]
        if lost:
            logger.info("live socket %s: events of %s never arrived; sending a snapshot", self.channel_name, lost)
            await self.send_snapshot()
            return
        self.suspects = {g: n for g, n in counters.items() if n > self.order.last.get(g, n)}

    async def live_event(self, message: dict[str, Any]) -> None:
        """A message from one of this socket's groups (type ``live.event``, sent by ``crm.live.publisher``)."""
        async with self.lock:
            for event in self.order.accept(message["group"], message["gseq"], message):
                await self.forward(event)
            self.watch_holes()

    async def forward(self, message: dict[str, Any]) -> None:
        """Send one event in its group's order (called under the lock); an event sent to two groups goes once."""
        if message["eid"] in self.recent_ids:
            return
        self.remember(message["eid"])
        self.seq += 1
        await self.send_json({"type": "event", "seq": self.seq, "event": message["event"], "data": message["data"]})

    def remember(self, eid: str) -> None:
        self.recent.append(eid)
        self.recent_ids.add(eid)
        if len(self.recent) > RECENT_EVENTS:
            self.recent_ids.discard(self.recent.popleft())

    # --- client frames -------------------------------------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None, **kwargs) -> None:
        try:
            content = json.loads(text_data) if text_data is not None else None
        except ValueError:
            content = None
        kind = content.get("type") if isinstance(content, dict) else None
        try:
            await self.heard()
        except Exception:
            logger.exception("live socket: could not record a frame")
        if kind == "resync":
            loop = asyncio.get_running_loop()
            await asyncio.sleep(max(0.0, self.last_resync + MIN_RESYNC_INTERVAL_SECONDS - loop.time()))
            self.last_resync = loop.time()
            await self.send_snapshot()
        elif kind == "ping":
            await self.send_json({"type": "pong"})
        else:
            await self.send_json({"type": "error", "message": 'Send {"type": "resync"} or {"type": "ping"}.'})


class ConsoleConsumer(LiveConsumer):
    """An agent's console: their own work and presence, and the figures of the queues they serve.

    Its sockets are the agent's presence (``crm.live.presence``): when the last one has been gone for the grace
    period, ``crm.presence`` takes the agent offline.
    """

    socket = "console"

    async def opened(self) -> None:
        self.presence_agent_id = self.viewer.agent_id
        await presence_join(self.channel_layer, agent_id=self.presence_agent_id, channel_name=self.channel_name)

    async def heard(self) -> None:
        if getattr(self, "presence_agent_id", None) is not None:
            await presence_beat(self.channel_layer, agent_id=self.presence_agent_id, channel_name=self.channel_name)

    async def closing(self) -> None:
        if getattr(self, "presence_agent_id", None) is not None:
            await presence_leave(self.channel_layer, agent_id=self.presence_agent_id, channel_name=self.channel_name)

    def allowed(self, viewer: Viewer) -> bool:
        return viewer.agent_id is not None

    def groups_and_snapshot(self, viewer: Viewer):
        agent_id = viewer.agent_id
        queue_ids = list(queues_served_by(agent_id=agent_id).values_list("id", flat=True))
        groups = {agent_group(agent_id), *(queue_group(queue_id) for queue_id in queue_ids)}
        return groups, lambda: live_console_snapshot(agent_id=agent_id, queue_ids=queue_ids)


class WallboardConsumer(LiveConsumer):
    """A supervisor's wallboard: their teams' queues, agents and work (an administrator: the whole center)."""

    socket = "wallboard"

    def allowed(self, viewer: Viewer) -> bool:
        return viewer.unrestricted or viewer.is_supervisor

    def groups_and_snapshot(self, viewer: Viewer):
        groups = {WALLBOARD_ALL} if viewer.unrestricted else {team_group(team_id) for team_id in viewer.team_ids}
        return groups, lambda: live_wallboard_snapshot(viewer=viewer)
