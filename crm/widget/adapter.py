"""The ``chat`` adapter: a website chat inbox, reached by the embeddable widget (``crm.widget``).

Settings (cleaned by ``validate_settings``):

* ``allowed_origins``: the sites (``https://shop.example.com``, scheme + host + optional port, no path) whose pages
  may load the widget and open its socket; checked on every request and socket by the ``Origin`` header.
* ``prechat``: which pre-chat fields the visitor must fill in: a subset of ``["name", "email"]``.
* ``identity_required``: when true a visitor must present an identity ``{email, hmac}`` signed by the site's server
  (HMAC-SHA256 of the e-mail, keyed by ``secret``); without one, or with a wrong one, the socket is refused.
* ``secret``: the identity HMAC key, generated when absent, shown once at creation, masked afterwards.
* ``email_inbox``: the id of an e-mail inbox; when set, a visitor who finds nobody available may leave an e-mail
  address and the conversation continues there (``crm.widget.followup``).
* ``public_key``: the id in the script's URL and the socket's path; public by design (it is in every page that
  embeds the widget), generated when absent and never the secret.

Inbound messages arrive over the visitor's socket, not through ``parse_inbound``. ``send`` delivers an agent's
reply by publishing it to the visitor's socket group: the delivery outbox marks it sent once it is published.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import urlsplit

from django.utils import timezone

from crm.inboxes.adapters.base import (
    InvalidSettings,
    MalformedMessage,
    OutboundMessage,
    ParsedInbound,
    SendResult,
    TemporaryFailure,
)
from crm.live.publisher import publish_or_raise

_KNOWN = {"allowed_origins", "prechat", "identity_required", "secret", "public_key", "email_inbox"}
PRECHAT_FIELDS = ("name", "email")
MIN_SECRET_LENGTH = 16
PUBLIC_KEY_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
MAX_ORIGINS = 50


def visitor_group(visitor_id: str) -> str:
    """The channel-layer group of one visitor's sockets (every tab of theirs)."""
    return f"widget.visitor.{visitor_id}"


def normalize_origin(value: Any) -> str | None:
    """``scheme://host[:port]`` in lower case, or None when ``value`` is not such an origin."""
    if not isinstance(value, str) or not value.strip():
        return None
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        return None
    if parts.query or parts.fragment or parts.username or parts.password:
        return None
    try:
        port = parts.port
    except ValueError:
        return None
    if (parts.scheme, port) in (("http", 80), ("https", 443)):
        port = None  # a browser's Origin never names the default port
    return f"{parts.scheme}://{parts.hostname.lower()}" + (f":{port}" if port else "")


class ChatAdapter:
    channel: ClassVar[str] = "chat"
    # ``send`` is a publish to the channel layer: the delivery outbox sends it after commit in the request
    sends_in_request: ClassVar[bool] = True
    # a reply goes to the visitor's socket group, answering nothing by a provider's id: no ``thread_ids`` to read
    uses_thread_ids: ClassVar[bool] = False

    def __init__(self, *, settings: Mapping[str, Any]) -> None:
        self.settings = dict(settings)

    @classmethod
    def validate_settings(cls, settings: Mapping[str, Any]) -> dict[str, Any]:
        errors: dict[str, str] = {}
        for key in sorted(set(settings) - _KNOWN):
            errors[key] = "unknown setting for a chat inbox"
        origins = settings.get("allowed_origins")
        cleaned_origins: list[str] = []
        if not isinstance(origins, list) or not origins:
            errors["allowed_origins"] = "a list of the sites allowed to embed the widget, e.g. ['https://example.com']"
        elif len(origins) > MAX_ORIGINS:
            errors["allowed_origins"] = f"at most {MAX_ORIGINS} origins"
        else:
            for item in origins:
                origin = normalize_origin(item)
                if origin is None:
                    errors["allowed_origins"] = f"{str(item)[:100]!r} is not an origin (scheme://host[:port], no path)"
                    break
                cleaned_origins.append(origin)
        prechat = settings.get("prechat", [])
        if not isinstance(prechat, list) or any(field not in PRECHAT_FIELDS for field in prechat):
            errors["prechat"] = "a list of required pre-chat fields among 'name' and 'email'"
            prechat = []
        required = settings.get("identity_required", False)
        if not isinstance(required, bool):
            errors["identity_required"] = "true or false"
        secret = settings.get("secret")
        if secret in (None, ""):
            secret = secrets.token_hex(32)  # shown once, in the answer that created the inbox
        elif not isinstance(secret, str) or len(secret) < MIN_SECRET_LENGTH:
            errors["secret"] = f"at least {MIN_SECRET_LENGTH} characters (or leave it out to have one generated)"
        email_inbox = settings.get("email_inbox")
        if email_inbox is not None and (isinstance(email_inbox, bool) or not isinstance(email_inbox, int)):
            errors["email_inbox"] = "the id of the e-mail inbox an offline chat continues in, or null"
        public_key = settings.get("public_key")
        if public_key in (None, ""):
            public_key = secrets.token_urlsafe(18)
        elif not isinstance(public_key, str) or not PUBLIC_KEY_RE.match(public_key):
            errors["public_key"] = "16 to 64 letters, digits, '-' or '_' (or leave it out to have one generated)"
        if errors:
            raise InvalidSettings(errors)
        return {
            "allowed_origins": list(dict.fromkeys(cleaned_origins)),
            "prechat": [field for field in PRECHAT_FIELDS if field in prechat],
            "identity_required": required,
            "secret": secret,
            "public_key": public_key,
            "email_inbox": email_inbox,
        }

    @classmethod
    def redact_settings(cls, settings: Mapping[str, Any]) -> dict[str, Any]:
        return {key: "***" if key == "secret" and value else value for key, value in settings.items()}

    def parse_inbound(self, payload: bytes) -> ParsedInbound:
        raise MalformedMessage("chat messages arrive over the widget's socket (/ws/widget/<public key>/)")

    def send(self, message: OutboundMessage) -> SendResult:
        """Publish the reply to the visitor's socket group; the visitor's snapshot has it too if no socket is open."""
        (visitor,) = message.to
        data = {
            "id": int(message.reference) if message.reference else None,
            "from": "agent",
            "body": message.body,
            "at": timezone.now().isoformat(),
        }
        try:
            publish_or_raise([({visitor_group(visitor)}, "widget.message", data)])
        except Exception as exc:
            raise TemporaryFailure(f"the live layer could not take the reply: {type(exc).__name__}") from exc
        return SendResult(provider_id=f"chat-{message.reference}")
