"""Heavy reads on PostgreSQL read replicas (``DATABASE_REPLICA_URL``), everything else on the primary.

Which reads: only those a view or a selector asks for, by running inside ``replica_reads()`` (or as a view wrapped
by ``replica_view`` / a DRF view with ``ReplicaReadsMixin``, for GET and HEAD). Reports and customer timelines do.
Guessing by model would send a read that must see the request's own write to a copy that has not received it yet.

Inside such a block the router (``ReplicaRouter``) answers one alias for every read, chosen when the block opens:

* a replica that is up and behind the primary by at most ``DATABASE_REPLICA_MAX_LAG`` seconds — measured with
  ``pg_last_xact_replay_timestamp()`` (a replica that has replayed everything it received counts as current, or an
  idle primary would look like lag), checked at most every ``DATABASE_REPLICA_CHECK_SECONDS`` per process;
* otherwise the primary: a replica down or lagging is skipped without an error reaching anyone.

Read-your-writes: a client that changed something (a POST, PUT, PATCH or DELETE) reads from the primary for
``DATABASE_REPLICA_STICKY_SECONDS`` afterwards, wherever its next requests land; bookkeeping a GET writes (an API
key's last use) does not count. The
client is its session cookie or its ``Authorization`` header (an API key), hashed; the mark is a key in the cache
(Redis), so every web process honours it. A write inside a replica block sends the block's later reads to the
primary as well. A replica that fails in the middle of a read (it stopped after the check) makes ``replica_view``
run the view again on the primary.

Migrations run on the primary only; a replica receives them by streaming replication.
"""

from __future__ import annotations

import hashlib
import logging
import random
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

logger = logging.getLogger(__name__)

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
_read_alias: ContextVar[str | None] = ContextVar("switchboard_read_alias", default=None)
_client: ContextVar[str | None] = ContextVar("switchboard_db_client", default=None)
# None outside a request (a task, a command): there is no client to keep on the primary
_wrote: ContextVar[bool | None] = ContextVar("switchboard_db_wrote", default=None)

_LAG_SQL = """
SELECT CASE
    WHEN NOT pg_is_in_recovery() THEN 0
    WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
    ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 1e9)
END
"""


def replica_aliases() -> list[str]:
    return list(getattr(settings, "DATABASE_REPLICAS", []))


class _Health:
    """Per process: whether each replica was usable when last checked, and when that was."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.checked: dict[str, tuple[float, bool]] = {}

    def usable(self, alias: str) -> bool:
        now = time.monotonic()
        with self.lock:
            seen = self.checked.get(alias)
            if seen is not None and now - seen[0] < settings.DATABASE_REPLICA_CHECK_SECONDS:
                return seen[1]
        usable = _check(alias)
        with self.lock:
            self.checked[alias] = (time.monotonic(), usable)
        return usable

    def failed(self, alias: str) -> None:
        with self.lock:
            self.checked[alias] = (time.monotonic(), False)


health = _Health()


def _check(alias: str) -> bool:
    connection = connections[alias]
    try:
        with connection.cursor() as cursor:
            cursor.execute(_LAG_SQL)
            lag = float(cursor.fetchone()[0])
    except DatabaseError as exc:
        logger.warning("replica %s is not usable, reading from the primary: %s", alias, exc)
        connection.close()
        return False
    if lag > settings.DATABASE_REPLICA_MAX_LAG:
        logger.warning("replica %s lags %.1f s behind the primary, reading from the primary", alias, lag)
        return False
    return True


def _sticky_key(client: str) -> str:
    return f"db:primary-for:{client}"


def _pinned_to_primary() -> bool:
    client = _client.get()
    return bool(client) and bool(cache.get(_sticky_key(client)))


def choose_read_alias() -> str | None:
    """The replica this block's reads go to, or None for the primary."""
    aliases = replica_aliases()
    if not aliases or _wrote.get() is True or _pinned_to_primary():
        return None
    for alias in random.sample(aliases, len(aliases)):  # noqa: S311 (spreading load, not security)
        if health.usable(alias):
            return alias
    return None


@contextmanager
def replica_reads():
    """Reads inside go to a current replica when there is one (see the module's docstring)."""
    token = _read_alias.set(choose_read_alias())
    try:
        yield _read_alias.get() or DEFAULT_DB_ALIAS
    finally:
        _read_alias.reset(token)


def read_alias() -> str:
    """The alias reads go to here and now (for raw cursors: ``connections[read_alias()]``)."""
    return _read_alias.get() or DEFAULT_DB_ALIAS


def replica_view(view: Callable) -> Callable:
    """A view whose GET and HEAD read from a replica; run again on the primary if the replica fails mid-read."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method not in SAFE_METHODS:
            return view(request, *args, **kwargs)
        with replica_reads() as alias:
            try:
                return view(request, *args, **kwargs)
            except DatabaseError:
                if alias == DEFAULT_DB_ALIAS:
                    raise
                logger.warning("replica %s failed during a read; answering from the primary", alias)
                health.failed(alias)
                connections[alias].close()
        token = _read_alias.set(None)
        try:
            return view(request, *args, **kwargs)
        finally:
            _read_alias.reset(token)

    return wrapped


class ReplicaReadsMixin:
    """For a DRF view: its GET and HEAD read from a replica (``replica_view`` around ``dispatch``)."""

    def dispatch(self, request, *args, **kwargs):
        return replica_view(super().dispatch)(request, *args, **kwargs)


class ReplicaRouter:
    """Reads inside ``replica_reads`` to the alias chosen for the block; every write, and every other read, to the
    primary. A write marks the client (read-your-writes)."""

    def db_for_read(self, model, **hints):
        return _read_alias.get()

    def db_for_write(self, model, **hints):
        if _wrote.get() is not None:  # in a request
            _wrote.set(True)
        if _read_alias.get() is not None:
            _read_alias.set(None)  # what this block reads next must see the write
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS


class ReplicaMiddleware:
    """Knows the client for read-your-writes, and marks it when its request wrote."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not replica_aliases():
            return self.get_response(request)
        credential = request.headers.get("Authorization") or request.COOKIES.get(settings.SESSION_COOKIE_NAME, "")
        client = hashlib.sha256(credential.encode()).hexdigest()[:32] if credential else None
        client_token, wrote_token = _client.set(client), _wrote.set(False)
        try:
            response = self.get_response(request)
            if request.method not in SAFE_METHODS:
                # a sign-in creates the session it is known by from now on
                mark = client or _new_session_client(response)
                if mark:
                    cache.set(_sticky_key(mark), 1, timeout=settings.DATABASE_REPLICA_STICKY_SECONDS)
            return response
        finally:
            _client.reset(client_token)
            _wrote.reset(wrote_token)


def _new_session_client(response) -> str | None:
    morsel = response.cookies.get(settings.SESSION_COOKIE_NAME)
    return hashlib.sha256(morsel.value.encode()).hexdigest()[:32] if morsel is not None and morsel.value else None
