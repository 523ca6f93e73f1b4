"""The voice channel's adapter: calls arrive as events (``crm.calls``), and nothing is written back to a caller.

A voice inbox needs no settings. A written reply on a call (the agent meant a note) fails at once with a message
that says so, instead of waiting in the outbox for a channel that cannot carry it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from crm.inboxes.adapters.base import (
    InvalidSettings,
    MalformedMessage,
    OutboundMessage,
    ParsedInbound,
    PermanentFailure,
)


class VoiceAdapter:
    channel: ClassVar[str] = "voice"
    inbound_path: ClassVar[str] = "/api/v1/calls/"  # the platform POSTs calls and their events to the calls API

    def __init__(self, *, settings: Mapping[str, Any]) -> None:
        self.settings = self.validate_settings(settings)

    @classmethod
    def validate_settings(cls, settings: Mapping[str, Any]) -> dict[str, Any]:
        if settings:
            raise InvalidSettings({key: "a voice inbox takes no settings" for key in settings})
        return {}

    @classmethod
    def redact_settings(cls, settings: Mapping[str, Any]) -> dict[str, Any]:
        return dict(settings)

    def parse_inbound(self, payload: bytes) -> ParsedInbound:
        raise MalformedMessage("calls come in through POST /api/v1/calls/, not as messages")

    def send(self, message: OutboundMessage):
        raise PermanentFailure("a call carries no written reply: write an internal note instead", code="voice")
