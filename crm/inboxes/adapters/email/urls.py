"""Mail server URLs: ``imaps://user:pass@host:993/INBOX``, ``imap://…?starttls=1``, ``smtp://user:pass@host:587
?starttls=1``, ``smtps://…``. A user name or password holding ``@``, ``:`` or ``/`` is percent-encoded."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qs, quote, unquote, urlsplit

from crm.inboxes.adapters.base import PermanentFailure

_DEFAULT_PORTS = {"imap": 143, "imaps": 993, "smtp": 25, "smtps": 465}
_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class MailServer:
    scheme: str  # imap, imaps, smtp, smtps
    host: str
    port: int
    username: str = ""
    password: str = field(default="", repr=False)
    starttls: bool = False
    folder: str = ""  # IMAP only: the mailbox to read, INBOX by default

    @property
    def implicit_tls(self) -> bool:
        return self.scheme.endswith("s")

    @property
    def protocol(self) -> str:
        return self.scheme.removesuffix("s")


def parse_mail_url(url: str, *, protocol: str) -> MailServer:
    """Read an ``imap(s)://`` or ``smtp(s)://`` URL (``protocol`` is "imap" or "smtp").

    Raises ``PermanentFailure`` (a configuration error: retrying cannot help) naming what is wrong, never echoing
    the password.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise PermanentFailure(f"not a valid {protocol} URL: {_message_without_secret(exc, url)}") from None
    scheme = parts.scheme.lower()
    if scheme not in (protocol, protocol + "s"):
        raise PermanentFailure(f"the URL must start with {protocol}:// or {protocol}s://")
    if not parts.hostname:
        raise PermanentFailure(f"the {protocol} URL names no host")
    query = {key.lower(): values[-1] for key, values in parse_qs(parts.query).items()}
    unknown = set(query) - {"starttls"}
    if unknown:
        raise PermanentFailure(f"unknown option(s) in the {protocol} URL: {', '.join(sorted(unknown))}")
    starttls = query.get("starttls", "").lower() in _TRUE
    if starttls and scheme.endswith("s"):
        raise PermanentFailure(f"{scheme}:// is already encrypted: starttls applies to {protocol}:// only")
    folder = ""
    if protocol == "imap":
        folder = unquote(parts.path.lstrip("/")) or "INBOX"
        if not parts.username:
            raise PermanentFailure("the IMAP URL names no user (imaps://user:password@host/INBOX)")
    return MailServer(
        scheme=scheme,
        host=parts.hostname,
        port=port or _DEFAULT_PORTS[scheme],
        username=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        starttls=starttls,
        folder=folder,
    )


def redact_mail_url(url: str) -> str:
    """The URL with its password masked: what may be shown after creation or written to a log."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        user = quote(unquote(parts.username or ""), safe="")
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        netloc = f"{user}:***@{host}" + (f":{parts.port}" if parts.port else "")
    except ValueError:
        return "***"
    return parts._replace(netloc=netloc).geturl()


def _message_without_secret(exc: Exception, url: str) -> str:
    message = str(exc)
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    return message.replace(password, "***") if password else message
