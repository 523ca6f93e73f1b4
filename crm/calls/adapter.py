"""The voice channel's adapter: calls arrive as events (``crm.calls``), and nothing is written back to a caller.

A voice inbox fed through the calls API needs no settings. One connected to Twilio Voice names the account:
``account_sid`` and ``auth_token`` (both or neither; the token is a secret, shown redacted after creation): the
token verifies the ``X-Twilio-Signature`` of the callbacks Twilio sends to the inbox's ``inbound_url``
(``/inbound/twilio/<token>/voice/``, ``crm.calls.twilio``). A written reply on a call (the agent meant a note) fails
at once with a message that says so, instead of waiting in the outbox for a channel that cannot carry it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from django.utils.translation import gettext as _

from crm.inboxes.adapters.base import (
    InvalidSettings,
    MalformedMessage,
    OutboundMessage,
    ParsedInbound,
    PermanentFailure,
)

REDACTED = "***"
_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")


class VoiceAdapter:
    channel: ClassVar[str] = "voice"
    # Twilio Voice posts its callbacks here; other platforms POST calls and their events to /api/v1/calls/
    inbound_path: ClassVar[str] = "/inbound/twilio/{token}/voice/"

    def __init__(self, *, settings: Mapping[str, Any]) -> None:
        self.settings = self.validate_settings(settings)

    @classmethod
    def validate_settings(cls, settings: Mapping[str, Any]) -> dict[str, Any]:
        known = {"account_sid", "auth_token"}
        errors = {
            key: _("a voice inbox takes only account_sid and auth_token (Twilio)") for key in set(settings) - known
        }
        sid = str(settings.get("account_sid") or "").strip()
        token = str(settings.get("auth_token") or "").strip()
        if sid or token:
            if not _SID.match(sid):
                errors["account_sid"] = _("the Twilio account SID: AC followed by 32 hexadecimal digits")
            if len(token) < 16:
                errors["auth_token"] = _("the account's auth token (32 characters, from Twilio's console)")
        if errors:
            raise InvalidSettings(errors)
        return {"account_sid": sid, "auth_token": token} if sid else {}

    @classmethod
    def redact_settings(cls, settings: Mapping[str, Any]) -> dict[str, Any]:
        return {key: REDACTED if key == "auth_token" and value else value for key, value in settings.items()}

    def parse_inbound(self, payload: bytes) -> ParsedInbound:
        raise MalformedMessage("calls come in through POST /api/v1/calls/ or Twilio's voice callbacks, not as messages")

    def send(self, message: OutboundMessage):
        raise PermanentFailure("a call carries no written reply: write an internal note instead", code="voice")
