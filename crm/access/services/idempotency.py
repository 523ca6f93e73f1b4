"""``Idempotency-Key`` for creating POSTs: a retried request returns what the first one produced.

One transaction holds everything: a PostgreSQL advisory lock on (owner, key) so two requests with
one key never run at once, the lookup of an earlier answer, the create itself and the record of its
answer. A crash or a failed create leaves nothing behind; a retry simply runs again.
"""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext

from config.errors import DomainError

from ..models import IdempotencyRecord

MAX_KEY_LENGTH = 255


class IdempotencyInProgress(DomainError):
    """Another request with the same key is running right now (HTTP 409)."""

    code = "idempotency_in_progress"


class IdempotencyKeyReused(DomainError):
    """The key was already used for a different request body (the API answers 422)."""

    code = "idempotency_key_reused"


@dataclass(frozen=True)
class IdempotentResponse:
    status: int
    body: Any
    replayed: bool


def idempotency_owner(*, api_key_id: int | None = None, user_id: int | None = None) -> str:
    """Whose keys these are: each API key and each user has its own key space."""
    if api_key_id is not None:
        return f"key:{api_key_id}"
    if user_id is not None:
        return f"user:{user_id}"
    raise ValueError("An idempotency owner needs an API key or a user.")


def idempotency_check_key(*, key: str) -> None:
    """Raise a field error for a key that is empty, too long or not printable ASCII."""
    if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise ValidationError(
            {
                "Idempotency-Key": gettext("The key must be 1 to %(MAX_KEY_LENGTH)s printable ASCII characters.")
                % {"MAX_KEY_LENGTH": MAX_KEY_LENGTH}
            }
        )


def idempotency_request_hash(*, payload: Any) -> str:
    """SHA-256 of the canonical JSON of the request body: key order and spacing do not matter."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _lock_id(owner: str, key: str) -> int:
    digest = hashlib.sha256(f"{owner}\n{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def idempotency_run(
    *, owner: str, key: str, request_hash: str, perform: Callable[[], tuple[int, Any]]
) -> IdempotentResponse:
    """Run ``perform`` once per (owner, key) and remember its ``(status, body)``; replay it on a retry.

    - another request with this key is in flight → ``IdempotencyInProgress``;
    - the key was used with another body → ``IdempotencyKeyReused``;
    - the key was used with this body → the stored answer, ``replayed=True``;
    - otherwise ``perform()`` runs in this transaction; if it raises, nothing is stored.
    Records older than ``SWITCHBOARD_IDEMPOTENCY_TTL_HOURS`` count as absent.
    """
    idempotency_check_key(key=key)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_lock_id(owner, key)])
            (acquired,) = cursor.fetchone()
        if not acquired:
            raise IdempotencyInProgress(gettext("A request with this Idempotency-Key is still in progress."))

        record = IdempotencyRecord.objects.filter(owner=owner, key=key).first()
        if record is not None and record.created_at < _expiry_cutoff():
            record.delete()  # expired: the key is free again (we hold its lock, so nobody races us)
            record = None
        if record is not None:
            if record.request_hash != request_hash:
                raise IdempotencyKeyReused(
                    gettext("This Idempotency-Key was already used with a different request body; use a new key.")
                )
            return IdempotentResponse(status=record.response_status, body=record.response_body, replayed=True)

        status, body = perform()
        IdempotencyRecord.objects.create(
            owner=owner, key=key, request_hash=request_hash, response_status=status, response_body=body
        )
    return IdempotentResponse(status=status, body=body, replayed=False)


def _expiry_cutoff():
    return timezone.now() - timedelta(hours=settings.SWITCHBOARD_IDEMPOTENCY_TTL_HOURS)


def idempotency_purge_expired() -> int:
    """Delete records past their time to live; returns how many. For the periodic sweep."""
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=_expiry_cutoff()).delete()
    return deleted
