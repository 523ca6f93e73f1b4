"""Who is on the other end of a widget: the inbox by its public key, the page's origin, the visitor and their identity.

* The visitor token is a ``django.core.signing`` signature of a random visitor id, salted with the inbox's id: a
  token minted for one inbox means nothing to another (two sites' widgets in one browser never mix), and a visitor
  cannot forge another's id. The id is the visitor's ``chat`` identity address, so it is what finds "their" open
  conversation; nothing else the browser sends can name a conversation.
* An identity ``{"email", "hmac"}`` is accepted only with ``hmac == HMAC-SHA256(inbox secret, email)`` (hex), as the
  site's server computes it; compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from crm.inboxes.models import Inbox

from .adapter import normalize_origin

TOKEN_MAX_AGE_SECONDS = 400 * 24 * 3600  # a returning visitor within about a year keeps their history


class IdentityRefused(Exception):
    """The identity is missing (and the inbox requires one) or its signature is wrong."""


@dataclass(frozen=True)
class Visitor:
    id: str
    token: str
    new: bool


def inbox_by_public_key(public_key: str) -> Inbox | None:
    """The active chat inbox whose widget this is, or None."""
    if not isinstance(public_key, str) or not 16 <= len(public_key) <= 64:
        return None
    return (
        Inbox.objects.select_related("queue")
        .filter(channel="chat", adapter="chat", is_active=True, settings__public_key=public_key)
        .first()
    )


def origin_allowed(*, inbox: Inbox, origin: str | None) -> bool:
    normalized = normalize_origin(origin or "")
    return normalized is not None and normalized in (inbox.settings or {}).get("allowed_origins", [])


def _salt(inbox: Inbox) -> str:
    return f"crm.widget.visitor.{inbox.pk}"


def visitor_for(*, inbox: Inbox, token: Any) -> Visitor:
    """The visitor the token names, or a new visitor with a fresh token when it names none (absent, forged,
    minted for another inbox, expired)."""
    if isinstance(token, str) and token:
        try:
            visitor_id = signing.loads(token, salt=_salt(inbox), max_age=TOKEN_MAX_AGE_SECONDS)
        except signing.BadSignature:
            visitor_id = None
        if isinstance(visitor_id, str) and visitor_id.startswith("v"):
            return Visitor(id=visitor_id, token=token, new=False)
    visitor_id = "v" + secrets.token_hex(16)
    return Visitor(id=visitor_id, token=signing.dumps(visitor_id, salt=_salt(inbox)), new=True)


def identity_signature(*, secret: str, email: str) -> str:
    """What the site's server sends as ``hmac``: hex HMAC-SHA256 of the e-mail address, keyed by the inbox secret."""
    return hmac.new(secret.encode(), email.strip().lower().encode(), hashlib.sha256).hexdigest()


def identity_verified(*, inbox: Inbox, identity: Any) -> str | None:
    """The verified e-mail of ``identity``; None when none was given and the inbox does not require one.
    ``IdentityRefused`` when one was given with a wrong signature, or none was given and one is required."""
    settings = inbox.settings or {}
    if not identity:
        if settings.get("identity_required"):
            raise IdentityRefused(_("this chat requires a signed identity"))
        return None
    if not isinstance(identity, dict):
        raise IdentityRefused(_("the identity must be {email, hmac}"))
    email, signature = identity.get("email"), identity.get("hmac")
    if not isinstance(email, str) or not isinstance(signature, str):
        raise IdentityRefused(_("the identity must be {email, hmac}"))
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise IdentityRefused(_("the identity's e-mail is not valid")) from None
    if not hmac.compare_digest(identity_signature(secret=str(settings.get("secret", "")), email=email), signature):
        raise IdentityRefused(_("the identity's signature is wrong"))
    return email
