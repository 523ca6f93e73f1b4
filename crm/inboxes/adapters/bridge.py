"""The bridge: any channel Switchboard has no adapter for, carried by an integrator's service.

Outbound, each message of the inbox is a signed JSON POST to ``settings.url`` (the webhooks' signature scheme:
``Switchboard-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>``, and their request-forgery
guard: only public http(s) addresses unless ``WEBHOOK_ALLOW_PRIVATE_TARGETS``)::

    {"id": "<uuid>", "type": "message.outbound", "created_at": "...",
     "data": {"message": {"reference": "<our message id>", "interaction_id": 12, "to": ["<customer address>"],
                          "subject": "...", "body": "...", "html": "...", "thread_ids": [...],
                          "attachments": [{"name", "content_type", "size", "content_base64"}]}}}

A 2xx answer is sent (the provider's id: the answer's JSON ``"id"``, when it gives one); 408, 429, 5xx, timeouts and
unreachable hosts are temporary failures (retried); any other answer is permanent. A resend after a crash carries
the same ``reference`` (also ``Idempotency-Key: switchboard-message-<reference>``) for the receiver to de-duplicate.
Inbound, the integrator POSTs ``/api/v1/inboxes/{id}/messages/`` (``crm.inboxes.api.bridge``).

Settings: ``url`` (required) and ``secret`` (generated when absent; shown once, masked by ``redact_settings``).
"""

from __future__ import annotations

import base64
import json
import secrets
import time
import uuid
from collections.abc import Mapping
from typing import Any, ClassVar

import httpx
from django.core.exceptions import ValidationError
from django.utils import timezone

from config.outbound import redact_urls_in, url_has_userinfo
from crm.inboxes.adapters.base import (
    InvalidSettings,
    MalformedMessage,
    OutboundMessage,
    ParsedInbound,
    PermanentFailure,
    SendResult,
    TemporaryFailure,
)
from crm.webhooks.services import UnsafeTarget, webhook_check_url, webhook_post, webhook_signature

_KNOWN = {"url", "secret"}
MIN_SECRET_LENGTH = 16
_TEMPORARY_STATUSES = {408, 425, 429}


class BridgeAdapter:
    channel: ClassVar[str] = "bridge"
    # where the integrator POSTs what arrives (the inbox's inbound URL); the API key, not the URL, is the credential
    inbound_path: ClassVar[str] = "/api/v1/inboxes/{id}/messages/"

    def __init__(self, *, settings: Mapping[str, Any]) -> None:
        # the target's addresses are checked again before every POST (webhook_post): no DNS lookup here
        self.settings = _clean(settings, check_target=False)

    @classmethod
    def validate_settings(cls, settings: Mapping[str, Any]) -> dict[str, Any]:
        return _clean(settings, check_target=True)

    @classmethod
    def redact_settings(cls, settings: Mapping[str, Any]) -> dict[str, Any]:
        return {key: "***" if key == "secret" and value else value for key, value in settings.items()}

    def parse_inbound(self, payload: bytes) -> ParsedInbound:
        # inbound bridge messages arrive as API JSON, already structured (crm.inboxes.api.bridge)
        raise MalformedMessage("the bridge takes inbound messages at POST /api/v1/inboxes/{id}/messages/")

    def send(self, message: OutboundMessage) -> SendResult:
        body = json.dumps(_payload(message), separators=(",", ":")).encode()
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Switchboard-Bridge/1",
            "Switchboard-Event-Type": "message.outbound",
            "Switchboard-Signature": webhook_signature(secret=self.settings["secret"], timestamp=timestamp, body=body),
        }
        if message.reference:
            headers |= {"Switchboard-Message-Id": message.reference, "Idempotency-Key": _idempotency(message)}
        try:
            status_code, answer = webhook_post(url=self.settings["url"], body=body, headers=headers)
        except UnsafeTarget as exc:
            # the URL passed the check when the inbox was saved: its host stopped resolving, or now resolves inside
            # our network (DNS changed); retried, and failed for good when the attempts run out
            raise TemporaryFailure(str(exc)) from exc
        except httpx.HTTPError as exc:
            raise TemporaryFailure(redact_urls_in(f"{type(exc).__name__}: {exc}")[:1000]) from exc
        if 200 <= status_code < 300:
            return SendResult(provider_id=_provider_id(answer))
        excerpt = answer.decode("utf-8", errors="replace")[:500].strip()
        reason = f"the bridge answered HTTP {status_code}" + (f": {excerpt}" if excerpt else "")
        if status_code in _TEMPORARY_STATUSES or status_code >= 500:
            raise TemporaryFailure(reason, code=str(status_code))
        raise PermanentFailure(reason, code=str(status_code))


def _clean(settings: Mapping[str, Any], *, check_target: bool) -> dict[str, Any]:
    errors: dict[str, str] = {}
    for key in sorted(set(settings) - _KNOWN):
        errors[key] = "unknown setting for a bridge inbox"
    url = str(settings.get("url") or "").strip()
    if not url:
        errors["url"] = "the URL outbound messages are POSTed to is required"
    elif not url.startswith(("http://", "https://")):
        errors["url"] = "an http:// or https:// URL"
    elif url_has_userinfo(url):
        errors["url"] = "remove the user name and password (user:password@) from the URL"
    elif check_target:
        try:
            url = webhook_check_url(url)
        except ValidationError as exc:
            errors["url"] = " ".join(exc.message_dict.get("url", exc.messages))
    secret = settings.get("secret")
    if secret in (None, ""):
        secret = secrets.token_hex(32)  # shown once, in the answer that created the inbox
    elif not isinstance(secret, str) or len(secret) < MIN_SECRET_LENGTH:
        errors["secret"] = f"at least {MIN_SECRET_LENGTH} characters (or leave it out to have one generated)"
    if errors:
        raise InvalidSettings(errors)
    return {"url": url, "secret": secret}


def _payload(message: OutboundMessage) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "type": "message.outbound",
        "created_at": timezone.now().isoformat(),
        "data": {
            "message": {
                "reference": message.reference,
                "interaction_id": message.interaction_id,
                "to": list(message.to),
                "cc": list(message.cc),
                "subject": message.subject,
                "body": message.body,
                "html": message.html,
                "thread_ids": list(message.thread_ids),
                "automatic": message.automatic,
                "attachments": [
                    {
                        "name": item.filename,
                        "content_type": item.content_type,
                        "size": len(item.data),
                        "content_base64": base64.b64encode(item.data).decode("ascii"),
                    }
                    for item in message.attachments
                ],
            }
        },
    }


def _idempotency(message: OutboundMessage) -> str:
    return f"switchboard-message-{message.reference}"


def _provider_id(answer: bytes) -> str:
    """The receiver's id of what it accepted (its JSON ``"id"``); "" when it gives none."""
    try:
        parsed = json.loads(answer or b"null")
    except ValueError:
        return ""
    value = parsed.get("id") if isinstance(parsed, dict) else None
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        return ""
    return str(value)[:200]
