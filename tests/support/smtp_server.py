"""A real SMTP server (aiosmtpd) on a free loopback port that keeps what it receives.

``temporary`` and ``permanent`` hold recipient addresses it answers 451 or 550 at RCPT; ``data_reply`` answers
the DATA command instead of accepting; ``credentials`` requires AUTH with that user and password, ``tokens``
(access token -> user) requires AUTH XOAUTH2 with a token it holds. ``hold()`` makes
the next DATA wait, unanswered, until ``release`` is set (to catch a sender in the middle of sending): what it
brought is kept in ``held``, not ``received``, since its sender never heard that it was accepted.
"""

from __future__ import annotations

import asyncio
import base64
import json
import ssl
import threading
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from urllib.parse import quote

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.support.ports import free_port


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.data, policy=policy.default)  # type: ignore[return-value]


class SmtpSink:
    def __init__(
        self,
        *,
        credentials: tuple[str, str] | None = None,
        tokens: dict[str, str] | None = None,
        starttls_context: ssl.SSLContext | None = None,
        implicit_tls_context: ssl.SSLContext | None = None,
    ):
        self.received: list[Received] = []
        self.temporary: set[str] = set()
        self.permanent: set[str] = set()
        self.data_reply: str | None = None
        self.held: list[Received] = []
        self.holding = threading.Event()  # set when a held DATA has arrived
        self.release = threading.Event()
        self._hold_next = False
        self.credentials = credentials
        self.tokens = tokens
        self.port = free_port()
        self.lock = threading.Lock()
        options: dict = {}
        if credentials or tokens is not None:
            options |= {"authenticator": self._authenticate, "auth_required": True, "auth_require_tls": False}
        if starttls_context:
            options |= {"tls_context": starttls_context}
        self.controller = Controller(
            self, hostname="127.0.0.1", port=self.port, ssl_context=implicit_tls_context, **options
        )
        self.implicit_tls = implicit_tls_context is not None

    def url(self, *, user: str | None = None, password: str | None = None, starttls: bool = False) -> str:
        scheme = "smtps" if self.implicit_tls else "smtp"
        auth = f"{quote(user, safe='')}:{quote(password or '', safe='')}@" if user else ""
        return f"{scheme}://{auth}127.0.0.1:{self.port}" + ("?starttls=1" if starttls else "")

    def start(self) -> SmtpSink:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.controller.stop()

    def hold(self) -> None:
        self._hold_next = True

    # --- aiosmtpd handler hooks ---------------------------------------------------------------------------------

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and self.credentials is not None
            and (auth_data.login.decode(), auth_data.password.decode()) == self.credentials
        )
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself

    async def auth_XOAUTH2(self, server, args):
        """Google's and Microsoft's mechanism: base64 "user=<u>\\1auth=Bearer <token>\\1\\1"; a refused token gets a
        334 challenge with the error (JSON), then 535 after the client's empty answer."""
        if len(args) < 2:
            return AuthResult(success=False, handled=False)
        fields = dict(part.split("=", 1) for part in base64.b64decode(args[1]).decode().split("\x01") if "=" in part)
        token = fields.get("auth", "").removeprefix("Bearer ")
        if self.tokens is not None and self.tokens.get(token) == fields.get("user"):
            return AuthResult(success=True, auth_data=fields.get("user"))
        await server.challenge_auth(json.dumps({"status": "401", "schemes": "bearer"}))
        return AuthResult(success=False, handled=False, message="535 5.7.8 Username and Password not accepted")

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.temporary:
            return "451 4.2.1 Mailbox busy, try again later"
        if address.lower() in self.permanent:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_reply:
            return self.data_reply
        if self._hold_next:
            self._hold_next = False
            with self.lock:
                self.held.append(Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content)))
            self.holding.set()
            await asyncio.to_thread(self.release.wait, 60)
            return "250 Message accepted for delivery"
        with self.lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 Message accepted for delivery"
