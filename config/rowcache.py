"""Per-process caches of rows that are read on every request and change rarely (API keys, queues with their SLA
targets, webhook subscriptions), with exact invalidation across processes.

Each cache (``RowCache``) is a plain dict in the process, without expiry. Its entries are valid for one
*generation*: a random token kept in Redis (``<SWITCHBOARD_INSTANCE>:rowcache:generation``).

* **Change.** A save or delete of a watched model (``post_save`` / ``post_delete``, so the admin, the services and
  cascades are all caught) registers one ``transaction.on_commit`` per transaction that writes a new token to Redis
  and drops this process's entries. Until that commit, this connection's reads bypass every cache (neither read
  nor fill): a transaction sees its own uncommitted change, and a rollback leaves nothing behind (Django drops the
  callback, so the bypass ends with it).
* **Check.** A request (``request_started``) or a Celery task (``task_prerun``) opens a scope; the first cache
  read in the scope GETs the token — one Redis GET per request at most, none for a request that reads no cache —
  and a token unlike the one the process holds drops every entry. Outside a scope (a shell, a command, a socket
  consumer) every read checks. So a change committed in one process is seen by every request that *starts* after
  the commit in any process: a revoked API key stops at once, as it did when every request read it on the primary.
* **Fill.** A miss loads from the primary and keeps the value tagged with the token the scope saw *before* the
  load; a value read under an older token than the process's current one is not kept, so a slow reader cannot
  store a row that a change has already replaced.
* **Redis unreachable.** Reads go to the database (no cache) and the process drops its entries, so it reloads
  everything once the token can be read again; a token that could not be written after a commit (three tries) is
  written at the process's next check, and the process drops its entries at once. A one-off process (a command)
  that cannot write it logs an error: other processes that read nothing during the outage keep their rows.

A caller that checks in its own statement what must be exact may read with ``stale_for`` (seconds): the entry under
the generation this process last read, if that was recent enough, with no GET (the e-mail endpoint's queued
acceptance: its INSERT itself checks that the inbox still takes mail, and the settings it reads may lag a change
made in another process by that long).

Why a token per request rather than a pub/sub listener: one GET on loopback costs ~0.1 ms, needs no thread per
process (web, worker, beat, commands alike), and cannot miss a message on a reconnect; the listener would save
that GET but a dropped subscription would leave a revoked key working. Changes to the watched rows are rare
(an administrator's edit), so one token for all caches is enough: any change empties them all.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Hashable, Iterable, Mapping
from contextvars import ContextVar
from typing import Any, TypeVar

from celery.signals import task_postrun, task_prerun
from django.core.signals import request_finished, request_started
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models.signals import post_delete, post_save

from config.redis_clients import instance_key
from config.redis_clients import shared as shared_redis

logger = logging.getLogger(__name__)

T = TypeVar("T")


def token_key() -> str:
    """``<SWITCHBOARD_INSTANCE>:rowcache:generation`` on ``REDIS_URL``, a plain string."""
    return instance_key("rowcache", "generation")


class _Scope:
    """One request or task: the token it saw at its first cache read (``_UNSEEN`` before)."""

    __slots__ = ("token",)

    def __init__(self) -> None:
        self.token: Any = _UNSEEN


_UNSEEN = object()
_UNKNOWN = object()  # Redis could not be read: no cache for this read
_scope: ContextVar[_Scope | None] = ContextVar("switchboard_rowcache_scope", default=None)


class _State:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.token: Any = _UNSEEN  # the generation this process's entries belong to
        self.pending_write = False  # a commit could not write its new token yet
        self.read_at = float("-inf")  # when this process last read the token from Redis (time.monotonic())
        self.caches: list[RowCache] = []

    def adopt(self, token: Any) -> None:
        with self.lock:
            if token != self.token:
                self.token = token
                for cache in self.caches:
                    cache.entries.clear()


_state = _State()


def _read_token() -> Any:
    if _state.pending_write:
        _write_token(attempts=1)
    try:
        token = shared_redis().get(token_key())
        return None if token is None else token.decode()
    except Exception:  # noqa: BLE001 - Redis down: the database answers instead
        logger.warning("rowcache: cannot read the generation from Redis; reading the database", exc_info=True)
        return _UNKNOWN


def _write_token(attempts: int = 3) -> None:
    token = uuid.uuid4().hex
    for attempt in range(attempts):
        try:
            shared_redis().set(token_key(), token)
            break
        except Exception:  # noqa: BLE001 - a short outage: try again, then leave it to the next check
            if attempt + 1 < attempts:
                time.sleep(0.1 * (attempt + 1))
    else:
        logger.error("rowcache: cannot publish a change to Redis; this process retries at its next read")
        _state.pending_write = True
        _state.adopt(object())
        return
    _state.pending_write = False
    _state.adopt(token)


def _current_token() -> Any:
    scope = _scope.get()
    if scope is not None and scope.token is not _UNSEEN:
        return scope.token
    token = _read_token()
    _state.read_at = time.monotonic()
    # Redis unreachable: a change committed meanwhile could not be announced, so nothing kept so far can be trusted
    # once it is back (the token it will show may be the one these entries were read under)
    _state.adopt(object() if token is _UNKNOWN else token)
    if scope is not None:
        scope.token = token
    return token


def _recent_token(seconds: float) -> Any:
    """The token this process holds if it read it from Redis less than ``seconds`` ago, else ``_UNSEEN`` (then
    ``_current_token`` answers, from the scope or from Redis)."""
    token = _state.token
    if (token is None or isinstance(token, str)) and time.monotonic() - _state.read_at < seconds:
        return token
    return _UNSEEN


def _changed_on_commit() -> None:
    _write_token()


def _changed_in_this_transaction(using: str = DEFAULT_DB_ALIAS) -> bool:
    connection = connections[using]
    return connection.in_atomic_block and any(entry[1] is _changed_on_commit for entry in connection.run_on_commit)


def changed(*, using: str = DEFAULT_DB_ALIAS) -> None:
    """A watched row changed (called by the model signals; call it after writes that send none: ``update()``,
    raw SQL, ``bulk_create``). Every process drops its entries once the transaction commits."""
    if _changed_in_this_transaction(using):
        return
    transaction.on_commit(_changed_on_commit, using=using)


class RowCache:
    """A named per-process cache: ``get(key, load)`` answers from memory or from ``load()`` (read on the primary).

    ``watch`` maps model labels (``"crm.Queue"``) to the fields whose change matters (None: any save).
    """

    def __init__(self, name: str, *, watch: Mapping[str, Iterable[str] | None]) -> None:
        self.name = name
        self.entries: dict[Hashable, tuple[Any, Any]] = {}
        _state.caches.append(self)
        for label, fields in watch.items():
            _watch(label, None if fields is None else frozenset(fields))

    def get(
        self,
        key: Hashable,
        load: Callable[[], T],
        *,
        keep: Callable[[T], bool] | None = None,
        stale_for: float = 0,
    ) -> T:
        """The cached value of ``key``, else ``load()``, kept unless ``keep(value)`` is false (e.g. a miss that a
        caller could repeat with endless keys).

        ``stale_for`` (seconds): a caller that checks what matters itself (in the statement it writes with) may take
        the entry under the generation this process last read, if it read it less than that long ago, without
        reading Redis: a change committed in another process reaches it within ``stale_for`` seconds (one made in
        this process, at once)."""
        if _changed_in_this_transaction():
            return load()
        token = _recent_token(stale_for) if stale_for > 0 else _UNSEEN
        if token is _UNSEEN:
            token = _current_token()
        if token is _UNKNOWN:
            return load()
        entry = self.entries.get(key)
        if entry is not None and entry[0] == token:
            return entry[1]
        value = load()
        if (keep is None or keep(value)) and token == _state.token:
            self.entries[key] = (token, value)
        return value

    def __len__(self) -> int:
        return len(self.entries)


def clear_local() -> None:
    """Forget every entry of this process (the tests, between two tests that truncate tables)."""
    _state.adopt(_UNSEEN)


_watched: dict[str, frozenset[str] | None] = {}


def _watch(label: str, fields: frozenset[str] | None) -> None:
    if label in _watched:
        previous = _watched[label]
        _watched[label] = None if previous is None or fields is None else previous | fields
        return
    _watched[label] = fields
    uid = f"rowcache:{label}"
    post_save.connect(_on_save, sender=label, dispatch_uid=uid, weak=False)
    post_delete.connect(_on_delete, sender=label, dispatch_uid=uid, weak=False)


def _on_save(sender, *, instance, created=False, update_fields=None, using=DEFAULT_DB_ALIAS, **kwargs) -> None:
    fields = _watched.get(sender._meta.label)
    if fields is not None and not created and update_fields is not None and not (fields & set(update_fields)):
        return  # e.g. a webhook's failure count: nothing a cache holds
    changed(using=using)


def _on_delete(sender, *, using=DEFAULT_DB_ALIAS, **kwargs) -> None:
    changed(using=using)


def _open_scope(**kwargs) -> None:
    _scope.set(_Scope())


def _close_scope(**kwargs) -> None:
    _scope.set(None)


request_started.connect(_open_scope, dispatch_uid="rowcache.open_scope")
request_finished.connect(_close_scope, dispatch_uid="rowcache.close_scope")
task_prerun.connect(_open_scope, dispatch_uid="rowcache.task_open_scope", weak=False)
task_postrun.connect(_close_scope, dispatch_uid="rowcache.task_close_scope", weak=False)
