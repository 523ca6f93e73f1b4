"""Which stored files no message names yet: the ledger that lets the orphan sweep find exactly those.

A file is written before the row that names it (an inbound e-mail's attachments, before its message; an agent's
upload, before the reply), and a transaction that rolls back afterwards — an IMAP batch that fails halfway, a reply
refused because the interaction was closed meanwhile — leaves the file behind with nothing pointing at it.
``files_written`` records each new file in a Redis sorted set (scored by the time it was written);
``files_claimed`` removes it once the message naming it has committed (the inboxes' ``message_saved`` hook). What is
still in the set long after it was written is a candidate for ``crm.inboxes.services.orphans``, which checks the
messages before deleting anything: the ledger only narrows the search, the database decides.

Redis being unreachable never fails an import or a reply: the file is then simply not tracked (logged).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

import redis

from config.redis_clients import instance_key
from config.redis_clients import shared as shared_redis

logger = logging.getLogger(__name__)


def _key() -> str:
    return instance_key("inboxes", "unclaimed-files")


def files_written(paths: Iterable[str]) -> None:
    entries = {path: time.time() for path in paths}
    if not entries:
        return
    try:
        shared_redis().zadd(_key(), entries)
    except redis.RedisError:
        logger.warning("inboxes: could not record %s new files in the ledger", len(entries), exc_info=True)


def files_claimed(paths: Iterable[str]) -> None:
    paths = list(paths)
    if not paths:
        return
    try:
        shared_redis().zrem(_key(), *paths)
    except redis.RedisError:
        logger.warning("inboxes: could not clear %s claimed files from the ledger", len(paths), exc_info=True)


def files_unclaimed(*, written_before: float, limit: int) -> list[str]:
    """Paths written before ``written_before`` (a Unix time) and not claimed, oldest first."""
    found = shared_redis().zrangebyscore(_key(), "-inf", written_before, start=0, num=limit)
    return [path.decode() for path in found]


def files_forget(paths: Iterable[str]) -> None:
    paths = list(paths)
    if paths:
        shared_redis().zrem(_key(), *paths)
