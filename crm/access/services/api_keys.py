"""Creating, checking and revoking integrators' API keys."""

import copy
import hashlib
import secrets
from datetime import timedelta

from django.db import DEFAULT_DB_ALIAS, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from config.api.permissions import ALL_SCOPES
from config.errors import DomainError
from config.rowcache import RowCache

from ..models import ApiKey

KEY_PREFIX = "sb_"
# last_used_at is written at most this often per key, so a busy key does not turn every request into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)
# Keys by hash, per process (``config.rowcache``): a save or delete of any key (revoked, expiry or scopes changed)
# empties it in every process before their next request, so a revoked key stops at once, as when every request
# read it on the primary. Unknown hashes are not kept (a caller could send endless ones).
_keys = RowCache("api keys", watch={"crm.ApiKey": None})


def hash_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def api_key_create(*, name: str, scopes: list[str], team=None, created_by=None, expires_at=None) -> tuple[ApiKey, str]:
    """Create a key and return it with its raw value, which is never stored and cannot be shown again."""
    scopes = sorted({s.strip() for s in scopes if s.strip()})
    unknown = set(scopes) - set(ALL_SCOPES)
    if not scopes or unknown:
        raise DomainError(
            _("Scopes must be a non-empty subset of %(join)s; got %(value)s.")
            % {"join": ", ".join(ALL_SCOPES), "value": ", ".join(scopes) or "none"}
        )
    if not name.strip():
        raise DomainError(_("An API key needs a name."))
    raw = KEY_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        key = ApiKey.objects.create(
            name=name.strip(),
            prefix=raw[: len(KEY_PREFIX) + 8],
            hashed_key=hash_key(raw),
            scopes=scopes,
            team=team,
            created_by=created_by,
            expires_at=expires_at,
        )
    return key, raw


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
    return api_key


def api_key_authenticate(*, raw_key: str) -> ApiKey | None:
    """The active key with this value, or None. Records when it was last used (coarsely).

    Read on the primary even in a view that reads a replica (``config.replicas``), and kept per process until any
    key changes (``config.rowcache``): a key revoked a moment ago must stop working at once, in every process.
    """
    hashed = hash_key(raw_key)
    cached = _keys.get(
        hashed,
        lambda: ApiKey.objects.using(DEFAULT_DB_ALIAS).filter(hashed_key=hashed).first(),
        keep=lambda key: key is not None,
    )
    if cached is None or not cached.is_active:
        return None
    now = timezone.now()
    if cached.last_used_at is None or now - cached.last_used_at > LAST_USED_RESOLUTION:
        # an UPDATE, not a save: the stamp sends no change signal, so it does not empty the caches
        ApiKey.objects.using(DEFAULT_DB_ALIAS).filter(pk=cached.pk).update(last_used_at=now)
        cached.last_used_at = now
    return copy.copy(cached)  # the request's own: nothing it sets on the key reaches the cached one
