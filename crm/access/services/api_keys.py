"""Creating, checking and revoking integrators' API keys."""

import hashlib
import secrets
from datetime import timedelta

from django.db import DEFAULT_DB_ALIAS, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from config.api.permissions import ALL_SCOPES
from config.errors import DomainError

from ..models import ApiKey

KEY_PREFIX = "sb_"
# last_used_at is written at most this often per key, so a busy key does not turn every request into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


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
    """The active key with this value, or None. Records when it was last used (coarsely). Read on the primary even
    in a view that reads a replica (``config.replicas``): a key revoked a moment ago must stop working at once."""
    key = ApiKey.objects.using(DEFAULT_DB_ALIAS).filter(hashed_key=hash_key(raw_key)).first()
    if key is None or not key.is_active:
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key
