"""Handing a socket's frames and events to their handlers without a trip through the process's one sync thread.

Channels (4.2 and later) runs Django's ``close_old_connections`` through ``sync_to_async`` before every handler:
for every frame a browser sends and every event a group delivers, one hop to the thread-sensitive thread, the single
thread that all the sockets of a web process share for their thread-sensitive sync calls. The sockets here touch
the database only through ``database_sync_to_async``, which closes its own thread's old connections before and after
each call (``channels.db.DatabaseSyncToAsync``), so the hop closed nothing of theirs; it cost a thread switch per
event (about a tenth of the socket role's CPU under the widget benchmark), and every event of every socket of the
process waited behind whatever that thread was doing — a snapshot being read, a slow query.
"""

from typing import Any

from channels.consumer import get_handler_name


class DirectDispatch:
    """For an async consumer: each message goes straight to its handler (see above)."""

    async def dispatch(self, message: dict[str, Any]) -> None:
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)
