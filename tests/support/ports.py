"""Free loopback ports for the servers tests start (dovecot, SMTP, PostgreSQL, Redis, web servers).

A port the kernel hands out is only free until someone binds it: ``free_ports(n)`` holds all ``n`` sockets open
while it asks, so the ports it returns differ from each other; servers that can still lose a port to another
process in between (an xdist neighbour) retry with fresh ones (see ``tests.support.dovecot``).
"""

from __future__ import annotations

import socket
from contextlib import ExitStack


def free_ports(count: int) -> list[int]:
    with ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]


def free_port() -> int:
    return free_ports(1)[0]
