"""IMAP import of the e-mail inboxes (``settings.imap_url``), run by beat (``crm.inboxes.tasks.email_poll_due``).

By UID, never by sequence number and never "unseen only" (mail read in another client is still imported): each
inbox keeps a ``MailboxCursor`` (UIDVALIDITY, last UID imported). One batch is one transaction holding the
cursor's row lock (``SKIP LOCKED``: a second worker skips a mailbox being imported instead of importing it too):
the messages' receipts and interactions commit together with the cursor that passes them, so a crash or a restart
mid-batch imports nothing twice (and the receipts' unique key would catch it anyway). Batches follow each other
until the mailbox is drained (back-filling after downtime); a changed UIDVALIDITY re-offers the whole folder, and
the receipts keep each message once. Imported messages are then flagged ``\\Seen`` on the server, for people
looking at the mailbox; nothing depends on the flag.

A mailbox that logs in with OAuth (XOAUTH2) gets its access token before the batch's transaction opens
(``crm.inboxes.services.credentials``); a token the server refuses is renewed once, at once.

Failures: refused credentials (a changed password, a revoked OAuth grant) move the inbox to "re-authorisation
required" and e-mail the administrators once per change (``inbox_require_reauthorisation``); polling skips it until
an administrator marks it re-authorised (``crm.inboxes.services.inboxes.inbox_mark_reauthorised``). Anything else
(server down, a missing folder, the OAuth provider busy) is recorded on the cursor (``last_error``) and tried again
next round.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ..adapters.base import AuthenticationFailed, DeliveryError
from ..adapters.email.imap import fetch_new, mark_imported
from ..adapters.email.oauth import oauth_configured
from ..models import Inbox, InboxState, MailboxCursor
from .credentials import inbox_access_token, inbox_forget_access_token, inbox_require_reauthorisation
from .inbound import email_receive, email_receive_oversized

logger = logging.getLogger(__name__)

SOURCE = "imap"


@dataclass
class PollResult:
    fetched: int = 0  # messages read from the server
    imported: int = 0  # new receipts (imported, noise or failed): what this run recorded
    busy: bool = False  # another worker holds the mailbox
    error: str = ""


def polled_inboxes():
    """Active e-mail inboxes with a mailbox to read and working credentials."""
    return (
        Inbox.objects.filter(is_active=True, adapter="email", state=InboxState.ACTIVE, settings__has_key="imap_url")
        .exclude(settings__imap_url="")
        .order_by("pk")
    )


def email_poll_due() -> int:
    """Import what is new in every polled mailbox; answers the number of messages recorded. One mailbox's failure
    does not keep the others from being read."""
    recorded = 0
    for inbox in polled_inboxes():
        try:
            recorded += mailbox_poll(inbox=inbox).imported
        except Exception:
            logger.exception("inbox %s: the IMAP import failed", inbox.pk)
    return recorded


def mailbox_poll(*, inbox: Inbox) -> PollResult:
    """Import every message past the inbox's cursor, batch after batch until none is left."""
    MailboxCursor.objects.get_or_create(inbox=inbox)
    result = PollResult()
    oauth = oauth_configured(inbox.settings)
    renewed = False
    try:
        token = inbox_access_token(inbox) if oauth else None
        while more := _poll_batch(inbox_id=inbox.pk, result=result, access_token=token, final=not oauth or renewed):
            if more is _TOKEN_REFUSED:  # the cached token was turned down: one fresh one, at once
                inbox_forget_access_token(inbox)
                token, renewed = inbox_access_token(inbox, fresh=True), True
    except DeliveryError as exc:  # the server (or the OAuth provider) refused, failed or could not be reached
        _record_failure(inbox=inbox, error=exc, result=result)
    return result


_TOKEN_REFUSED = "renew"  # noqa: S105 (a marker, not a password): truthy: the loop goes on with a new token


def _record_failure(*, inbox: Inbox, error: DeliveryError, result: PollResult) -> None:
    result.error = error.reason
    MailboxCursor.objects.filter(inbox=inbox).update(polled_at=timezone.now(), last_error=error.reason)
    if isinstance(error, AuthenticationFailed):
        inbox_require_reauthorisation(inbox=inbox, reason=error.reason)
    else:
        logger.warning("inbox %s: IMAP import failed, tried again next round: %s", inbox.pk, error.reason)


def _poll_batch(*, inbox_id: int, result: PollResult, access_token: str | None, final: bool) -> bool | str:
    """One batch in one transaction; truthy when more messages wait, ``_TOKEN_REFUSED`` when the server refused
    an OAuth token that may be renewed (``final`` false)."""
    with transaction.atomic():
        cursor = MailboxCursor.objects.select_for_update(skip_locked=True).filter(inbox_id=inbox_id).first()
        if cursor is None:
            result.busy = True
            return False
        inbox = polled_inboxes().filter(pk=inbox_id).first()  # read under the lock: it may have changed
        if inbox is None:
            return False
        url = inbox.settings["imap_url"]
        cursor.polled_at = timezone.now()
        try:
            fetched = fetch_new(
                url,
                uidvalidity=cursor.uidvalidity,
                last_uid=cursor.last_uid,
                batch=settings.SWITCHBOARD_EMAIL_IMAP_BATCH,
                max_message_bytes=settings.SWITCHBOARD_EMAIL_MAX_BYTES,
                access_token=access_token,
            )
        except AuthenticationFailed:
            if access_token is not None and not final:
                return _TOKEN_REFUSED
            raise  # recorded by mailbox_poll, outside this transaction (nothing of the batch was written)
        for message in fetched.messages:
            if message.raw is None:
                key = f"imap:{fetched.uidvalidity}:{message.uid}@oversized.switchboard.invalid"
                receipt = email_receive_oversized(inbox=inbox, key=key, size=message.size, source=SOURCE)
            else:
                receipt = email_receive(inbox=inbox, raw=message.raw, source=SOURCE)
            result.fetched += 1
            result.imported += not receipt.duplicate
        cursor.uidvalidity, cursor.last_uid, cursor.last_error = fetched.uidvalidity, fetched.last_uid, ""
        cursor.save(update_fields=["uidvalidity", "last_uid", "polled_at", "last_error"])
    uids = [message.uid for message in fetched.messages if message.raw is not None]
    try:
        mark_imported(url, uidvalidity=fetched.uidvalidity, uids=uids, access_token=access_token)
    except DeliveryError as exc:  # only a courtesy to people reading the mailbox: the cursor decides what is new
        logger.info("inbox %s: could not flag imported messages: %s", inbox_id, exc.reason)
    return fetched.more
