"""An inbox's credentials: the adapter built with a current OAuth token, and what happens when they stop working.

``inbox_adapter`` is how the IMAP import and the delivery outbox get an inbox's adapter. For a mailbox that logs in
with OAuth (``oauth_token_url`` in its settings), it carries an access token from ``inbox_access_token``: kept in
the cache until shortly before it expires (one refresh per inbox per token lifetime, whatever the number of
workers sending), refreshed with the inbox's refresh token otherwise. When the provider rotates refresh tokens the
new one is stored at once: the old one may stop working after its first use.

Refused credentials — a password that no longer logs in, a refresh token the provider revoked, an access token the
server turns down even fresh — call ``inbox_require_reauthorisation``: the inbox moves to "re-authorisation
required", the administrators get one e-mail per change of state, polling skips the inbox, and its deliveries wait
(pending, not failed) until an administrator marks it re-authorised (``inbox_mark_reauthorised``), which sends them.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from config import rowcache
from config.roles import ADMINISTRATOR_GROUP

from ..adapters import Adapter, adapter_for
from ..adapters.email.oauth import oauth_configured, refresh_access_token
from ..adapters.twilio import TwilioAdapter
from ..models import Inbox, InboxState
from ..selectors import inbox_inbound_url

logger = logging.getLogger(__name__)

EXPIRY_MARGIN_SECONDS = 120  # a token is renewed this long before the provider's expiry


def inbox_adapter(inbox: Inbox, *, fresh_token: bool = False) -> Adapter:
    """The inbox's adapter, logged in with a current OAuth access token where the inbox uses one. Raises what
    ``refresh_access_token`` raises (``AuthenticationFailed`` when the grant was revoked)."""
    adapter_class = adapter_for(inbox.adapter)
    if inbox.adapter == "email" and oauth_configured(inbox.settings):
        return adapter_class(settings=inbox.settings, access_token=inbox_access_token(inbox, fresh=fresh_token))
    if issubclass(adapter_class, TwilioAdapter):  # Twilio reports each message's fate to the inbox's status URL
        return adapter_class(settings=inbox.settings, status_callback_url=inbox_inbound_url(inbox) + "status/")
    return adapter_class(settings=inbox.settings)


def inbox_access_token(inbox: Inbox, *, fresh: bool = False) -> str:
    """A current access token of an OAuth mailbox: the cached one, or a new one from the refresh token."""
    key = _cache_key(inbox.pk, inbox.settings)
    if not fresh:
        token = cache.get(key)
        if token:
            return token
    granted = refresh_access_token(inbox.settings)
    settings: dict[str, Any] = inbox.settings
    if granted.refresh_token and granted.refresh_token != settings.get("oauth_refresh_token"):
        settings = {**settings, "oauth_refresh_token": granted.refresh_token}
        _store_rotated(inbox, settings)
        key = _cache_key(inbox.pk, settings)
    cache.set(key, granted.value, timeout=max(granted.expires_in - EXPIRY_MARGIN_SECONDS, 30))
    return granted.value


def inbox_forget_access_token(inbox: Inbox) -> None:
    """The server refused the cached token: the next ``inbox_access_token`` asks the provider for a new one."""
    cache.delete(_cache_key(inbox.pk, inbox.settings))


def _cache_key(inbox_id: int, settings: dict[str, Any]) -> str:
    # the refresh token's digest is part of the key: new credentials never reuse a token of the old ones
    digest = hashlib.sha256(str(settings.get("oauth_refresh_token", "")).encode()).hexdigest()[:16]
    return f"inbox-oauth:{inbox_id}:{digest}"


def _store_rotated(inbox: Inbox, settings: dict[str, Any]) -> None:
    """Keep the provider's new refresh token at once. Callers fetch tokens outside their transactions (the IMAP
    import before its batch, the outbox between claim and record): a rollback must not lose a rotated token, or the
    next login would present a spent one."""
    Inbox.objects.filter(pk=inbox.pk).update(settings=settings, updated_at=timezone.now())
    rowcache.changed()  # an update() sends no signal: the cached inboxes (``selectors``) are dropped on commit
    inbox.settings = settings
    logger.info("inbox %s: the OAuth provider issued a new refresh token; stored", inbox.pk)


def inbox_require_reauthorisation(*, inbox: Inbox, reason: str) -> bool:
    """The inbox's credentials were refused: mark it (polling skips it, deliveries wait) and tell the
    administrators, once per change of state. False when it was already marked."""
    updated = Inbox.objects.filter(pk=inbox.pk, state=InboxState.ACTIVE).update(
        state=InboxState.REAUTHORISE, state_detail=reason[:2000], updated_at=timezone.now()
    )
    if updated:
        rowcache.changed()
        inbox_id = inbox.pk
        logger.warning("inbox %s needs re-authorisation: %s", inbox_id, reason)
        transaction.on_commit(lambda: _notify_administrators(inbox_id=inbox_id))
    return bool(updated)


def administrator_emails() -> list[str]:
    users = (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(is_superuser=True) | Q(groups__name=ADMINISTRATOR_GROUP))
    )
    return sorted(set(users.exclude(email="").values_list("email", flat=True)))


def _notify_administrators(*, inbox_id: int) -> None:
    inbox = Inbox.objects.filter(pk=inbox_id).first()
    recipients = administrator_emails()
    if inbox is None or not recipients:
        return
    waiting = inbox.deliveries.filter(status="pending").count()
    try:
        send_mail(
            subject=f"Switchboard: the inbox {inbox.name} needs re-authorisation",
            message=(
                f"Switchboard can no longer log in to the mailbox of the inbox {inbox.name!r}: {inbox.state_detail}\n\n"
                f"No mail is imported from it and no reply leaves through it ({waiting} waiting) until this is fixed. "
                "Give it working credentials (a new password in its IMAP or SMTP URL, or a new OAuth refresh token) "
                "in the admin, then mark it re-authorised there: what arrived meanwhile is imported and the waiting "
                "replies are sent."
            ),
            from_email=None,
            recipient_list=recipients,
        )
    except Exception:
        logger.exception("inbox %s: could not e-mail the administrators about re-authorisation", inbox_id)
