"""SMS and WhatsApp through Twilio's Programmable Messaging API.

Settings, per inbox: ``account_sid`` (``AC…``), ``auth_token`` (a secret: shown redacted after creation, never
logged), ``from_number`` (the inbox's number in E.164, ``+4915123456789``; for WhatsApp the approved sender's
number), ``api_base_url`` (default ``https://api.twilio.com``; tests point it at loopback, which the webhooks'
request-forgery guard allows only with ``WEBHOOK_ALLOW_PRIVATE_TARGETS``), and for WhatsApp ``templates``: the
approved message templates an agent may still send outside the 24-hour customer-service window
(``{"<name>": "<content sid HX…>"}``).

Inbound: Twilio POSTs form fields to the inbox's ``inbound_url`` (``/inbound/twilio/<token>/``), signed with
``X-Twilio-Signature`` (``.signature``); ``parse_inbound`` reads them. Outbound: ``send`` POSTs
``{api_base_url}/2010-04-01/Accounts/{sid}/Messages.json`` with HTTP Basic (SID, token) and the fields ``To``,
``From``, ``Body`` (or ``ContentSid`` for a template) and ``StatusCallback``; 429 and 5xx are temporary, any
other refusal permanent with Twilio's error code (``21610``: the recipient opted out).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx

from crm.inboxes.adapters.base import (
    InvalidSettings,
    MalformedMessage,
    OutboundMessage,
    ParsedInbound,
    PermanentFailure,
    SendResult,
    TemporaryFailure,
    json_object,
)
from crm.webhooks.services import UnsafeTarget, resolve_target, webhook_post

DEFAULT_API_BASE_URL = "https://api.twilio.com"
REDACTED = "***"
_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_CONTENT_SID = re.compile(r"^HX[0-9a-fA-F]{32}$")
TEMPLATE_PREFIX = "template:"  # a reply whose body is "template:<name>" sends that approved template


class TwilioAdapter:
    channel: ClassVar[str] = "sms"
    inbound_path: ClassVar[str] = "/inbound/twilio/{token}/"
    address_prefix: ClassVar[str] = ""  # WhatsApp addresses are "whatsapp:+<number>"
    _known: ClassVar[frozenset[str]] = frozenset({"account_sid", "auth_token", "from_number", "api_base_url"})

    def __init__(self, *, settings: Mapping[str, Any], status_callback_url: str = "") -> None:
        self.settings = self._clean(settings, check_target=False)  # the address is looked up when a reply is sent
        self.status_callback_url = status_callback_url

    @classmethod
    def validate_settings(cls, settings: Mapping[str, Any]) -> dict[str, Any]:
        return cls._clean(settings, check_target=True)

    @classmethod
    def _clean(cls, settings: Mapping[str, Any], *, check_target: bool) -> dict[str, Any]:
        errors: dict[str, str] = {
            key: f"unknown setting for a {cls.channel} inbox" for key in set(settings) - cls._known
        }
        sid = str(settings.get("account_sid") or "").strip()
        if not _SID.match(sid):
            errors["account_sid"] = "the Twilio account SID: AC followed by 32 hexadecimal digits"
        token = str(settings.get("auth_token") or "").strip()
        if len(token) < 16:
            errors["auth_token"] = "the account's auth token (32 characters, from Twilio's console)"  # noqa: S105
        number = str(settings.get("from_number") or "").strip().removeprefix("whatsapp:")
        if not _E164.match(number):
            errors["from_number"] = "the inbox's number in international format, e.g. +4915123456789"
        base = str(settings.get("api_base_url") or DEFAULT_API_BASE_URL).strip().rstrip("/")
        parts = urlsplit(base)
        if parts.scheme not in ("https", "http") or not parts.hostname or parts.username or parts.password:
            errors["api_base_url"] = "an https:// URL without user or password, e.g. https://api.twilio.com"
        elif check_target and base != DEFAULT_API_BASE_URL:
            # refused when saved, like a bridge's URL, not only at the first reply (Twilio's own host is not looked up)
            try:
                resolve_target(base)
            except UnsafeTarget as exc:
                errors["api_base_url"] = str(exc)
        cleaned: dict[str, Any] = {"account_sid": sid, "auth_token": token, "from_number": number, "api_base_url": base}
        cleaned.update(cls._clean_extra(settings, errors))
        if errors:
            raise InvalidSettings(errors)
        return cleaned

    @classmethod
    def _clean_extra(cls, settings: Mapping[str, Any], errors: dict[str, str]) -> dict[str, Any]:
        return {}

    @classmethod
    def redact_settings(cls, settings: Mapping[str, Any]) -> dict[str, Any]:
        return {key: REDACTED if key == "auth_token" and value else value for key, value in settings.items()}

    # --- inbound -------------------------------------------------------------------------------------------------

    @staticmethod
    def form_fields(payload: bytes) -> list[tuple[str, str]]:
        try:
            return parse_qsl(payload.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(payload))
        except (UnicodeDecodeError, ValueError) as exc:
            raise MalformedMessage(f"not a form-encoded Twilio request: {exc}") from None

    def parse_inbound(self, payload: bytes) -> ParsedInbound:
        fields = dict(self.form_fields(payload))
        sender = fields.get("From", "").removeprefix("whatsapp:").strip()
        sid = fields.get("MessageSid") or fields.get("SmsSid") or ""
        if not sender or not sid:
            raise MalformedMessage("a Twilio message needs From and MessageSid")
        body = fields.get("Body", "")
        return ParsedInbound(
            sender=sender,
            sender_name=fields.get("ProfileName", ""),
            to=(fields.get("To", "").removeprefix("whatsapp:"),),
            text=body,
            text_display=body,
            message_id=sid,
            raw_size=len(payload),
        )

    @staticmethod
    def media_urls(payload: bytes) -> list[tuple[str, str]]:
        """(URL, content type) of each media item of an MMS or WhatsApp message (``NumMedia`` of them)."""
        fields = dict(TwilioAdapter.form_fields(payload))
        try:
            count = min(int(fields.get("NumMedia") or 0), 10)
        except ValueError:
            count = 0
        found = []
        for index in range(count):
            url = fields.get(f"MediaUrl{index}")
            if url:
                found.append((url, fields.get(f"MediaContentType{index}", "application/octet-stream")))
        return found

    # --- outbound ------------------------------------------------------------------------------------------------

    def _address(self, number: str) -> str:
        return f"{self.address_prefix}{number}"

    def message_fields(self, message: OutboundMessage) -> dict[str, str]:
        fields = {"To": self._address(message.to[0]), "From": self._address(self.settings["from_number"])}
        fields["Body"] = message.body
        return fields

    def send(self, message: OutboundMessage) -> SendResult:
        if not message.to:
            raise PermanentFailure("no recipient", code="no_address")
        fields = self.message_fields(message)
        if self.status_callback_url:
            fields["StatusCallback"] = self.status_callback_url
        sid, token = self.settings["account_sid"], self.settings["auth_token"]
        url = f"{self.settings['api_base_url']}/2010-04-01/Accounts/{sid}/Messages.json"
        basic = base64.b64encode(f"{sid}:{token}".encode()).decode()
        headers = {
            "Authorization": f"Basic {basic}",
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        }
        if message.reference:  # Twilio de-duplicates a resend after a crash by it
            headers["I-Twilio-Idempotency-Token"] = f"switchboard-message-{message.reference}"
        try:
            status, body = webhook_post(url=url, body=urlencode(fields).encode(), headers=headers)
        except UnsafeTarget as exc:
            raise PermanentFailure(f"Twilio's API address is not allowed: {exc}") from None
        except httpx.HTTPError as exc:
            raise TemporaryFailure(f"Twilio could not be reached: {type(exc).__name__}") from None
        answer = json_object(body)
        if 200 <= status < 300 and isinstance(answer.get("sid"), str):
            return SendResult(provider_id=answer["sid"])
        code = str(answer.get("code") or status)
        reason = f"Twilio refused the message: {answer.get('message') or f'HTTP {status}'} (error {code})"
        if status == 429 or status >= 500:
            raise TemporaryFailure(reason, code=code)
        raise PermanentFailure(reason, code=code, recipient=message.to[0])


class TwilioWhatsAppAdapter(TwilioAdapter):
    channel: ClassVar[str] = "whatsapp"
    address_prefix: ClassVar[str] = "whatsapp:"
    _known: ClassVar[frozenset[str]] = TwilioAdapter._known | {"templates"}

    @classmethod
    def _clean_extra(cls, settings: Mapping[str, Any], errors: dict[str, str]) -> dict[str, Any]:
        templates = settings.get("templates") or {}
        if not isinstance(templates, Mapping) or not all(
            isinstance(name, str) and name and isinstance(sid, str) and _CONTENT_SID.match(sid)
            for name, sid in templates.items()
        ):
            errors["templates"] = 'approved templates by name: {"<name>": "<content SID, HX + 32 hex digits>"}'
            return {"templates": {}}
        return {"templates": dict(templates)}

    def template_named(self, body: str) -> str | None:
        """The content SID of the approved template a reply names (``template:<name>``), or None."""
        text = body.strip()
        if not text.startswith(TEMPLATE_PREFIX):
            return None
        return self.settings["templates"].get(text[len(TEMPLATE_PREFIX) :].strip())

    def message_fields(self, message: OutboundMessage) -> dict[str, str]:
        fields = super().message_fields(message)
        content_sid = self.template_named(message.body)
        if content_sid is not None:
            del fields["Body"]
            fields["ContentSid"] = content_sid
        return fields
