"""Importing a mailbox over IMAP (imap-tools for the connection): by UID, never by sequence number, never "unseen
only" — mail already read in another client is still imported.

The caller keeps a cursor per inbox, (UIDVALIDITY, last imported UID), and asks for what lies beyond it in bounded
batches; after downtime it simply asks again while ``more`` is true. When the server's UIDVALIDITY changed, the old
UIDs mean nothing: the whole folder is offered again from the start (``uidvalidity_changed``) and the caller's
Message-ID de-duplication keeps each message once. Fetching peeks (BODY.PEEK): it changes no flag; marking what
was imported is a separate, later call (``mark_imported``), made once the messages are stored.
"""

from __future__ import annotations

import imaplib
import re
import ssl
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from imap_tools import MailBox, MailBoxStartTls, MailBoxUnencrypted
from imap_tools.errors import ImapToolsError, MailboxFolderSelectError, MailboxLoginError

from crm.inboxes.adapters.base import AuthenticationFailed, PermanentFailure, TemporaryFailure
from crm.inboxes.adapters.email.urls import MailServer, parse_mail_url

DEFAULT_TIMEOUT = 30
DEFAULT_BATCH = 50
DEFAULT_MAX_BATCH_BYTES = 64 * 1024 * 1024
DEFAULT_MAX_MESSAGE_BYTES = 40 * 1024 * 1024
IMPORTED_FLAG = "\\Seen"  # what a person looking at the mailbox understands as "dealt with"

_UID = re.compile(rb"\bUID (\d+)")
_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)")
_FLAGS = re.compile(rb"\bFLAGS \(([^)]*)\)")


@dataclass(frozen=True)
class FetchedMessage:
    uid: int
    raw: bytes | None = field(repr=False)  # None: larger than max_message_bytes, left on the server (size says why)
    size: int
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class FetchResult:
    uidvalidity: int
    uidvalidity_changed: bool  # the caller's cursor was void: these messages start again from the folder's start
    messages: list[FetchedMessage]
    last_uid: int  # the new cursor: the highest UID returned (the given one when nothing was new)
    more: bool  # messages beyond this batch wait: ask again


def fetch_new(
    imap_url: str,
    *,
    uidvalidity: int | None,
    last_uid: int,
    batch: int = DEFAULT_BATCH,
    max_batch_bytes: int = DEFAULT_MAX_BATCH_BYTES,
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    timeout: float = DEFAULT_TIMEOUT,
    ssl_context: ssl.SSLContext | None = None,
    access_token: str | None = None,
) -> FetchResult:
    """The messages of the URL's folder with a UID above ``last_uid``, in UID order: at most ``batch`` of them and
    about ``max_batch_bytes`` (always at least one). ``uidvalidity`` is the value stored with the cursor (None on
    the first run). ``access_token`` logs in with XOAUTH2 (Microsoft 365, Gmail) as the URL's user instead of its
    password. Raises ``AuthenticationFailed`` when the credentials or token are refused, ``TemporaryFailure`` when
    the server cannot be reached or fails, ``PermanentFailure`` for a configuration error (no such folder)."""
    server = parse_mail_url(imap_url, protocol="imap")
    connection = _mailbox(server, timeout=timeout, ssl_context=ssl_context, readonly=True, access_token=access_token)
    with connection as (box, current_validity, exists):
        changed = uidvalidity is not None and uidvalidity != current_validity
        cursor = 0 if changed else last_uid
        if not exists:
            return FetchResult(current_validity, changed, [], cursor, more=False)
        uids = sorted(uid for uid in _search(box, f"UID {cursor + 1}:*") if uid > cursor)
        chosen, sizes = _choose(box, uids[:batch], max_batch_bytes)
        wanted = [uid for uid in chosen if sizes.get(uid, 0) <= max_message_bytes]
        bodies = _fetch(box, wanted, "(UID FLAGS BODY.PEEK[])") if wanted else {}
        messages = []
        for uid in chosen:
            raw, flags = bodies.get(uid, (None, ()))
            if uid in wanted and raw is None:
                continue  # expunged between SEARCH and FETCH: nothing to import, and nothing skipped for good
            messages.append(FetchedMessage(uid=uid, raw=raw, size=sizes.get(uid, len(raw or b"")), flags=flags))
        new_cursor = max([cursor, *chosen])
        return FetchResult(current_validity, changed, messages, new_cursor, more=len(uids) > len(chosen))


def mark_imported(
    imap_url: str,
    *,
    uidvalidity: int,
    uids: Sequence[int],
    flag: str = IMPORTED_FLAG,
    timeout: float = DEFAULT_TIMEOUT,
    ssl_context: ssl.SSLContext | None = None,
    access_token: str | None = None,
) -> bool:
    """Set ``flag`` on imported messages (what a person sees in their mail client). Nothing depends on it: the
    cursor, not the flag, decides what is new. Answers False, marking nothing, when UIDVALIDITY changed since."""
    if not uids:
        return True
    server = parse_mail_url(imap_url, protocol="imap")
    connection = _mailbox(server, timeout=timeout, ssl_context=ssl_context, readonly=False, access_token=access_token)
    with connection as (box, current_validity, _):
        if current_validity != uidvalidity:
            return False
        for start in range(0, len(uids), 500):
            chunk = ",".join(str(uid) for uid in uids[start : start + 500])
            _check(box.client.uid("STORE", chunk, "+FLAGS.SILENT", f"({flag})"), "STORE")
    return True


@contextmanager
def _mailbox(
    server: MailServer,
    *,
    timeout: float,
    ssl_context: ssl.SSLContext | None,
    readonly: bool,
    access_token: str | None = None,
) -> Iterator[tuple[MailBox, int, int]]:
    """A logged-in connection with the folder selected, its UIDVALIDITY and message count; errors mapped."""
    where = f"{server.host}:{server.port}"
    try:
        if server.implicit_tls:
            box = MailBox(server.host, server.port, timeout=timeout, ssl_context=ssl_context or _default_context())
        elif server.starttls:
            box = MailBoxStartTls(
                server.host, server.port, timeout=timeout, ssl_context=ssl_context or _default_context()
            )
        else:
            box = MailBoxUnencrypted(server.host, server.port, timeout=timeout)
    except ssl.SSLCertVerificationError as exc:
        raise PermanentFailure(f"the IMAP server {where} has an untrusted certificate: {exc.verify_message}") from exc
    except (OSError, imaplib.IMAP4.error, ImapToolsError) as exc:
        raise TemporaryFailure(f"cannot reach the IMAP server {where}: {exc or type(exc).__name__}") from exc
    try:
        _login(box, server, access_token)
        try:
            typ, data = box.folder.set(server.folder, readonly=readonly)
        except MailboxFolderSelectError as exc:
            raise PermanentFailure(f"the IMAP folder {server.folder!r} cannot be opened: {_text(exc)}") from exc
        exists = int(data[0]) if data and data[0] and data[0].isdigit() else 0
        yield box, _uidvalidity(box, server.folder), exists
    except (AuthenticationFailed, PermanentFailure, TemporaryFailure):
        raise
    except (OSError, imaplib.IMAP4.error, ImapToolsError) as exc:
        raise TemporaryFailure(f"the IMAP server {where} failed: {exc or type(exc).__name__}") from exc
    finally:
        try:
            box.logout()
        except (OSError, imaplib.IMAP4.error, ImapToolsError):
            pass  # the connection is going anyway


def _login(box: MailBox, server: MailServer, access_token: str | None) -> None:
    if access_token is None:
        try:
            box.login(server.username, server.password, initial_folder=None)
        except MailboxLoginError as exc:
            raise _login_failure(_text(exc), server) from exc
        return
    answers = iter([f"user={server.username}\x01auth=Bearer {access_token}\x01\x01"])

    def respond(challenge: bytes) -> str:
        # The first answer is the token; a second challenge carries the server's error, acknowledged with "".
        return next(answers, "")

    try:
        typ, data = box.client.authenticate("XOAUTH2", respond)
    except imaplib.IMAP4.error as exc:  # imaplib raises on NO: the token was refused
        raise _login_failure(str(exc), server) from exc
    if typ != "OK":
        raise _login_failure(_text(data), server)


def _default_context() -> ssl.SSLContext:
    return ssl.create_default_context()


def _login_failure(text: str, server: MailServer) -> Exception:
    upper = text.upper()
    if "[UNAVAILABLE]" in upper or "[INUSE]" in upper:  # RFC 5530: the server cannot check just now
        return TemporaryFailure(f"the IMAP server cannot log in {server.username!r} just now: {text}")
    if "[PRIVACYREQUIRED]" in upper or "LOGINDISABLED" in upper:
        return PermanentFailure(f"the IMAP server requires an encrypted connection (imaps:// or ?starttls=1): {text}")
    return AuthenticationFailed(f"the IMAP server refused the login of {server.username!r}: {text}")


def _uidvalidity(box: MailBox, folder: str) -> int:
    _, data = box.client.response("UIDVALIDITY")  # the SELECT answer's response code
    if data and data[0]:
        return int(data[0])
    return int(box.folder.status(folder, ["UIDVALIDITY"])["UIDVALIDITY"])


def _search(box: MailBox, criteria: str) -> list[int]:
    data = _check(box.client.uid("SEARCH", criteria), "UID SEARCH")
    return [int(uid) for uid in (data[0] or b"").split()] if data else []


def _choose(box: MailBox, uids: list[int], max_batch_bytes: int) -> tuple[list[int], dict[int, int]]:
    """The UIDs to fetch now, in order, within the byte budget (always the first one), and every size."""
    if not uids:
        return [], {}
    sizes = {uid: size for uid, (size, _flags) in _fetch_sizes(box, uids).items()}
    chosen, total = [], 0
    for uid in uids:
        size = sizes.get(uid, 0)
        if chosen and total + size > max_batch_bytes:
            break
        chosen.append(uid)
        total += size
    return chosen, sizes


def _fetch_sizes(box: MailBox, uids: list[int]) -> dict[int, tuple[int, tuple[str, ...]]]:
    data = _check(box.client.uid("FETCH", ",".join(map(str, uids)), "(UID RFC822.SIZE)"), "UID FETCH")
    out = {}
    for item in data:
        meta = item[0] if isinstance(item, tuple) else item
        if isinstance(meta, bytes) and (uid := _UID.search(meta)) and (size := _SIZE.search(meta)):
            out[int(uid.group(1))] = (int(size.group(1)), ())
    return out


def _fetch(box: MailBox, uids: list[int], parts: str) -> dict[int, tuple[bytes, tuple[str, ...]]]:
    """UID → (raw message, flags). A message's response is a (meta, literal) tuple and may continue in the bytes
    items after it (dovecot sends FLAGS after the literal)."""
    data = _check(box.client.uid("FETCH", ",".join(map(str, uids)), parts), "UID FETCH")
    records: list[list] = []
    for item in data:
        if isinstance(item, tuple):
            records.append([item[0], item[1]])
        elif isinstance(item, bytes) and records:
            records[-1][0] += b" " + item
    out = {}
    for meta, raw in records:
        uid = _UID.search(meta)
        if uid:
            flags = _FLAGS.search(meta)
            out[int(uid.group(1))] = (raw, tuple(flags.group(1).decode().split()) if flags else ())
    return out


def _check(result: tuple, command: str) -> list:
    typ, data = result
    if typ != "OK":
        raise TemporaryFailure(f"the IMAP server answered {typ} to {command}: {_text(data)}")
    return data or []


def _text(value: object) -> str:
    if isinstance(value, MailboxLoginError | MailboxFolderSelectError):
        value = value.command_result[1] if value.command_result else str(value)
    if isinstance(value, list | tuple):
        value = b" ".join(part if isinstance(part, bytes) else str(part).encode() for part in value if part)
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return " ".join(str(value).split())[:300]
