"""Exactly one beat: the schedule runs only in the process that holds a renewing Redis lock.

A second beat (a deploy overlap, a replica started by mistake) keeps waking up and trying to take the
lock; it sends nothing until the holder stops renewing (stopped, or dead for ``CELERY_BEAT_LOCK_TTL``
seconds). The schedule itself stays the static one in ``CELERY_BEAT_SCHEDULE``.
"""

import logging
import os
import socket
import uuid

import redis
from celery.beat import PersistentScheduler
from django.conf import settings

from config.redis_clients import instance_key

logger = logging.getLogger(__name__)


def lock_key() -> str:
    """One beat per installation (``SWITCHBOARD_INSTANCE``), not one per Redis."""
    return instance_key("celery", "beat-lock")


# Renew only a lock we still hold (compare-and-expire in one step).
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""


class LockedScheduler(PersistentScheduler):
    """A ``PersistentScheduler`` that ticks only while it holds the beat lock."""

    def __init__(self, *args, **kwargs):
        self._lock_token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex}"
        self._holding = False
        self._redis = redis.Redis.from_url(settings.REDIS_URL)
        super().__init__(*args, **kwargs)

    @property
    def _ttl_ms(self) -> int:
        return int(settings.CELERY_BEAT_LOCK_TTL * 1000)

    def _hold_lock(self) -> bool:
        try:
            if self._holding and self._redis.eval(_RENEW, 1, lock_key(), self._lock_token, self._ttl_ms):
                return True
            acquired = bool(self._redis.set(lock_key(), self._lock_token, nx=True, px=self._ttl_ms))
        except redis.RedisError:
            logger.exception("beat: the lock's Redis is unreachable; not running the schedule")
            acquired = False
        if acquired != self._holding:
            logger.warning("beat: %s the beat lock", "took" if acquired else "lost")
        self._holding = acquired
        return acquired

    def tick(self, *args, **kwargs):
        if not self._hold_lock():
            # another beat runs the schedule: try again well within the lock's lifetime
            return min(self.max_interval, settings.CELERY_BEAT_LOCK_TTL / 3)
        return min(super().tick(*args, **kwargs), settings.CELERY_BEAT_LOCK_TTL / 3)

    def close(self):
        try:
            if self._holding:
                self._redis.eval(_RELEASE, 1, lock_key(), self._lock_token)
        except redis.RedisError:
            pass  # it expires by itself
        self._holding = False
        super().close()
