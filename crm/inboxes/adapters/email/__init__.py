"""The e-mail channel: raw RFC 822 in (IMAP import or an MTA's POST), threaded replies out (SMTP).

``EmailAdapter`` is what the registry hands out for ``"email"``. Its settings, per inbox:

* ``address`` (required) — the support address replies come from; ``display_name`` — the From name;
* ``imap_url`` — ``imaps://user:password@host:993/INBOX`` (or ``imap://…?starttls=1``) to import from;
* ``smtp_url`` — ``smtp://user:password@host:587?starttls=1`` or ``smtps://…``; without it, Django's configured
  mailer (``EMAIL_URL``) sends;
* ``message_id_domain`` — the domain of our Message-IDs (default ``switchboard.<address's domain>``): mail
  carrying it is recognised as our own when it comes back;
* ``max_attachment_bytes``, ``max_total_bytes`` — what an inbound message may bring (over it: listed, not kept);
* ``import`` — how the raw-MIME endpoint imports: ``"immediate"`` (the default: the answer comes after the import)
  or ``"queued"`` (the answer, ``202``, comes once the raw message is stored; a worker imports it in arrival
  order, ``crm.inboxes.services.queued``). IMAP always imports in its worker.

``oauth_token_url``, ``oauth_client_id``, ``oauth_client_secret``, ``oauth_refresh_token``, ``oauth_scope`` — a mailbox
that logs in with XOAUTH2 (Microsoft 365, Gmail; see ``crm.inboxes.adapters.email.oauth``).

``imap_url`` and ``smtp_url`` hold passwords, and the OAuth client secret and refresh token are secrets:
``redact_settings`` masks them for display and logs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from crm.inboxes.adapters.base import InvalidSettings, OutboundMessage, ParsedInbound, PermanentFailure, SendResult
from crm.inboxes.adapters.email.compose import compose_reply, new_message_id
from crm.inboxes.adapters.email.oauth import OAUTH_SECRETS, OAUTH_SETTINGS, validate_oauth_settings
from crm.inboxes.adapters.email.parse import DEFAULT_MAX_ATTACHMENT_BYTES, DEFAULT_MAX_TOTAL_BYTES, parse_message
from crm.inboxes.adapters.email.smtp import send_message
from crm.inboxes.adapters.email.urls import parse_mail_url, redact_mail_url

_KNOWN = {"address", "display_name", "imap_url", "smtp_url", "message_id_domain", "max_attachment_bytes",
          "max_total_bytes", "import", *OAUTH_SETTINGS}  # fmt: skip
IMPORT_MODES = ("immediate", "queued")
SECRET_URLS = ("imap_url", "smtp_url")
REDACTED = "***"
_DOMAIN = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


class EmailAdapter:
    channel: ClassVar[str] = "email"

    def __init__(self, *, settings: Mapping[str, Any], access_token: str | None = None) -> None:
        """``access_token``: a current OAuth token (Microsoft 365, Gmail) that logs in to ``smtp_url`` with XOAUTH2
        instead of its password; refreshing it is the caller's business."""
        self.settings = self.validate_settings(settings)
        self.access_token = access_token

    @property
    def address(self) -> str:
        return self.settings["address"]

    @property
    def message_id_domain(self) -> str:
        return self.settings["message_id_domain"]

    @classmethod
    def validate_settings(cls, settings: Mapping[str, Any]) -> dict[str, Any]:
        errors: dict[str, str] = {}
        unknown = set(settings) - _KNOWN
        for key in sorted(unknown):
            errors[key] = "unknown setting for an e-mail inbox"
        address = str(settings.get("address") or "").strip().lower()
        try:
            validate_email(address)
        except ValidationError:
            errors["address"] = "a valid e-mail address is required (the support address)"
        cleaned: dict[str, Any] = {
            "address": address,
            "display_name": " ".join(str(settings.get("display_name") or "").split()),
        }
        for key, protocol in (("imap_url", "imap"), ("smtp_url", "smtp")):
            value = str(settings.get(key) or "").strip()
            if value:
                try:
                    parse_mail_url(value, protocol=protocol)
                except PermanentFailure as exc:
                    errors[key] = exc.reason
            cleaned[key] = value
        domain = str(settings.get("message_id_domain") or "").strip().lower()
        if not domain and "address" not in errors:
            domain = "switchboard." + address.rpartition("@")[2]
        if domain and not _DOMAIN.match(domain):
            errors["message_id_domain"] = "a domain name, e.g. switchboard.example.com"
        cleaned["message_id_domain"] = domain
        for key, default in (
            ("max_attachment_bytes", DEFAULT_MAX_ATTACHMENT_BYTES),
            ("max_total_bytes", DEFAULT_MAX_TOTAL_BYTES),
        ):
            value = settings.get(key, default)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                errors[key] = "a positive number of bytes"
            cleaned[key] = value
        if "import" in settings:  # absent: immediate (the settings of inboxes made before it stay as they were)
            if settings["import"] not in IMPORT_MODES:
                errors["import"] = "immediate or queued"
            cleaned["import"] = settings["import"]
        oauth, oauth_errors = validate_oauth_settings(settings)
        cleaned.update(oauth)
        errors.update(oauth_errors)
        if errors:
            raise InvalidSettings(errors)
        return cleaned

    @classmethod
    def redact_settings(cls, settings: Mapping[str, Any]) -> dict[str, Any]:
        def shown(key: str, value: Any) -> Any:
            if key in SECRET_URLS and value:
                return redact_mail_url(str(value))
            return REDACTED if key in OAUTH_SECRETS and value else value

        return {key: shown(key, value) for key, value in settings.items()}

    def new_message_id(self) -> str:
        """An id for ``OutboundMessage.message_id``, on this inbox's Message-ID domain."""
        return new_message_id(self.message_id_domain)

    def parse_inbound(self, payload: bytes) -> ParsedInbound:
        return parse_message(
            payload,
            own_domain=self.message_id_domain,
            max_attachment_bytes=self.settings["max_attachment_bytes"],
            max_total_bytes=self.settings["max_total_bytes"],
        )

    def send(self, message: OutboundMessage) -> SendResult:
        composed = compose_reply(
            from_address=self.address,
            from_name=self.settings["display_name"],
            to=message.to,
            cc=message.cc,
            subject=message.subject,
            body=message.body,
            html=message.html,
            interaction_id=message.interaction_id,
            thread_ids=message.thread_ids,
            attachments=message.attachments,
            automatic=message.automatic,
            message_id=message.message_id,
            message_id_domain=self.message_id_domain,
        )
        return send_message(composed, smtp_url=self.settings["smtp_url"] or None, access_token=self.access_token)
