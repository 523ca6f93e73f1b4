"""Sending one composed message: through the inbox's own ``smtp_url`` or Django's configured mailer, with every
outcome mapped to what the delivery outbox needs to know — sent (and to whom not), retry later, or give up."""

from __future__ import annotations

import email.policy
import re
import smtplib
import ssl
from email.utils import make_msgid

from django.core import mail
from django.core.mail import EmailMessage
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.core.mail.utils import DNS_NAME

from crm.inboxes.adapters.base import AuthenticationFailed, PermanentFailure, SendResult, TemporaryFailure
from crm.inboxes.adapters.email.compose import unbracket
from crm.inboxes.adapters.email.urls import parse_mail_url

DEFAULT_TIMEOUT = 30
_ENHANCED = re.compile(r"\b([245]\.\d{1,3}\.\d{1,3})\b")
_AUTH_CODES = {530, 534, 535}  # authentication required / rejected / mechanism refused for this account


def smtp_backend(
    smtp_url: str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    ssl_context: ssl.SSLContext | None = None,
    password_login: bool = True,
):
    """Django's SMTP backend for ``smtp://user:pass@host:port`` (``?starttls=1``) or ``smtps://`` (implicit TLS).
    ``ssl_context`` replaces the system's trust store (a private CA); without ``password_login`` it does not log in
    (the caller authenticates otherwise, e.g. XOAUTH2)."""
    server = parse_mail_url(smtp_url, protocol="smtp")
    backend = SmtpBackend(
        alias="inbox",  # a named instance, not one of settings.MAILERS: Django then takes every option from here
        host=server.host,
        port=server.port,
        username=server.username,
        password=server.password if password_login else "",
        use_tls=server.starttls,
        use_ssl=server.implicit_tls,
        timeout=timeout,
    )
    if ssl_context is not None:
        backend.ssl_context = ssl_context  # overrides Django's cached default context
    return backend


def send_message(
    message: EmailMessage,
    *,
    smtp_url: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    ssl_context: ssl.SSLContext | None = None,
    access_token: str | None = None,
) -> SendResult:
    """Send ``message``; answer its Message-ID (the provider id that threads the customer's reply) and the
    recipients refused while others were accepted. ``access_token`` logs in with XOAUTH2 (Microsoft 365, Gmail) as
    the URL's user. Raises ``TemporaryFailure`` (connection trouble, 4xx), ``AuthenticationFailed`` (the inbox's
    credentials or token were refused) or ``PermanentFailure`` (5xx, bad address, configuration)."""
    if "Message-ID" not in message.extra_headers:
        message.extra_headers["Message-ID"] = make_msgid(domain=DNS_NAME)
    provider_id = unbracket(message.extra_headers["Message-ID"])
    if access_token and not smtp_url:
        raise PermanentFailure("an OAuth access token needs the inbox's own smtp_url (the server to log in to)")
    if smtp_url:
        options = {"timeout": timeout, "ssl_context": ssl_context, "password_login": access_token is None}
        backend = smtp_backend(smtp_url, **options)
        user = parse_mail_url(smtp_url, protocol="smtp").username
        xoauth2 = _xoauth2(user, access_token) if access_token else None
        return SendResult(provider_id=provider_id, refused=_send_smtp(backend, message, xoauth2=xoauth2))
    backend = mail.mailers.default
    if isinstance(backend, SmtpBackend):
        return SendResult(provider_id=provider_id, refused=_send_smtp(backend, message))
    try:  # console, file or in-memory mailers (development and tests)
        backend.send_messages([message])
    except OSError as exc:
        raise TemporaryFailure(f"the mail backend failed: {exc}") from exc
    return SendResult(provider_id=provider_id)


def _send_smtp(backend: SmtpBackend, message: EmailMessage, *, xoauth2=None) -> dict[str, str]:
    """Django's backend opens the connection (TLS, login); the envelope is sent here so that recipients refused
    among accepted ones are reported instead of ignored."""
    try:
        sender = backend.prep_address(message.from_email)
        recipients = [backend.prep_address(address) for address in message.recipients()]
    except ValueError as exc:
        raise PermanentFailure(f"invalid address: {exc}") from exc
    if not recipients:
        raise PermanentFailure("the message has no recipient")
    data = message.message(policy=email.policy.SMTP).as_bytes()
    try:
        backend.open()
        if xoauth2 is not None:
            backend.connection.ehlo_or_helo_if_needed()
            backend.connection.auth("XOAUTH2", xoauth2)
        refused = backend.connection.sendmail(sender, recipients, data)
    except Exception as exc:
        raise _failure(exc) from exc
    finally:
        try:
            backend.close()
        except (OSError, smtplib.SMTPException):
            pass  # the message is sent (or the failure is already raised); a failing QUIT changes nothing
    return {address: _reply_text(code, text) for address, (code, text) in (refused or {}).items()}


def _xoauth2(user: str, token: str):
    """smtplib's authobject for XOAUTH2: the token first; a challenge after it carries the server's error (JSON),
    acknowledged with an empty line so that the server answers 535."""
    sent = []

    def respond(challenge: bytes | None = None) -> str:
        if sent:
            return ""
        sent.append(True)
        return f"user={user}\x01auth=Bearer {token}\x01\x01"

    return respond


def _failure(exc: Exception) -> Exception:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        # Every recipient refused: nothing was delivered, so a retry cannot duplicate. Temporary if any may pass.
        answers = exc.recipients
        temporary = [address for address, (code, _) in answers.items() if 400 <= code < 500]
        address = temporary[0] if temporary else next(iter(answers), None)
        code, text = answers[address] if address else (0, b"")
        kind = TemporaryFailure if temporary else PermanentFailure
        return kind(f"recipient refused: {_reply_text(code, text)}", code=_code(code, text), recipient=address)
    if isinstance(exc, smtplib.SMTPResponseException):
        code, text = exc.smtp_code, exc.smtp_error
        reason = f"{_stage(exc)}: {_reply_text(code, text)}"
        if isinstance(exc, smtplib.SMTPAuthenticationError) and code in _AUTH_CODES:
            return AuthenticationFailed(reason, code=_code(code, text))
        kind = PermanentFailure if 500 <= code < 600 else TemporaryFailure
        return kind(reason, code=_code(code, text))
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return PermanentFailure(f"the SMTP server does not support what the inbox asks for: {exc}")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return PermanentFailure(f"the SMTP server's certificate is not trusted: {exc.verify_message or exc}")
    if isinstance(exc, OSError):  # refused, reset, timed out, unknown host, TLS trouble, server disconnected
        return TemporaryFailure(f"cannot reach the SMTP server: {exc or type(exc).__name__}")
    return PermanentFailure(f"sending failed: {type(exc).__name__}: {exc}")


def _stage(exc: smtplib.SMTPResponseException) -> str:
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return "login refused"
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return "sender refused"
    if isinstance(exc, smtplib.SMTPDataError):
        return "message refused"
    return "the SMTP server answered"


def _reply_text(code: int, text: bytes | str) -> str:
    text = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {' '.join(text.split())}".strip()


def _code(code: int, text: bytes | str) -> str:
    """The enhanced status ("5.1.1") when the server gave one, else the reply code ("550")."""
    text = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    match = _ENHANCED.search(text)
    return match.group(1) if match else str(code)
