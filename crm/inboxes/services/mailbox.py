"""IMAP import of the e-mail inboxes (``settings.imap_url``), run by beat (``crm.inboxes.tasks.email_poll_due``).

By UID, never by sequence number and never "unseen only" (mail read in another client is still imported): each
inbox keeps a ``MailboxCursor`` (UIDVALIDITY, last UID imported). One batch is one transaction holding the
cursor's row lock (``SKIP LOCKED``: a second worker skips a mailbox being imported instead of importing it too):
the messages' receipts and interactions commit together with the cursor that passes them, so a crash or a restart
mid-batch imports nothing twice (and the receipts' unique key would catch it anyway). Batches follow each other
until the mailbox is drained (back-filling after downtime); a changed UIDVALIDITY re-offers the whole folder, and
the receipts keep each message once. Imported messages are then flagged ``\\Seen`` on the server, for people
looking at the mailbox; nothing depends on the flag.

Failures: refused credentials (a changed password, a revoked OAuth token) move the inbox to "re-authorisation
required" and e-mail the administrators once per change; polling skips it until an administrator marks it
re-authorised (``crm.inboxes.services.inboxes.inbox_mark_reauthorised``). Anything else (server down, a missing
folder) is recorded on the cursor (``last_error``) and tried again next round.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from config.roles import ADMINISTRATOR_GROUP

from ..adapters.base import AuthenticationFailed, DeliveryError
from ..adapters.email.imap import fetch_new, mark_imported
from ..models import Inbox, InboxState, MailboxCursor
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
    while _poll_batch(inbox_id=inbox.pk, result=result):
        pass
    return result


def _poll_batch(*, inbox_id: int, result: PollResult) -> bool:
    """One batch in one transaction; True when more messages wait."""
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
            )
        except DeliveryError as exc:
            result.error = cursor.last_error = exc.reason
            cursor.save(update_fields=["polled_at", "last_error"])
            if isinstance(exc, AuthenticationFailed):
                inbox_require_reauthorisation(inbox=inbox, reason=exc.reason)
            else:
                logger.warning("inbox %s: IMAP import failed, tried again next round: %s", inbox.pk, exc.reason)
            return False
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
        mark_imported(url, uidvalidity=fetched.uidvalidity, uids=uids)
    except DeliveryError as exc:  # only a courtesy to people reading the mailbox: the cursor decides what is new
        logger.info("inbox %s: could not flag imported messages: %s", inbox_id, exc.reason)
    return fetched.more


def inbox_require_reauthorisation(*, inbox: Inbox, reason: str) -> bool:
    """The inbox's credentials were refused: mark it (polling skips it) and tell the administrators, once per
    change of state. False when it was already marked."""
    updated = Inbox.objects.filter(pk=inbox.pk, state=InboxState.ACTIVE).update(
        state=InboxState.REAUTHORISE, state_detail=reason[:2000], updated_at=timezone.now()
    )
    if updated:
        inbox_id = inbox.pk
        logger.warning("inbox %s needs re-authorisation: %s", inbox_id, reason)
        transaction.on_commit(lambda: _notify_administrators(inbox_id=inbox_id))
    return bool(updated)


def administrator_emails() -> list[str]:
    users = (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(is_superuser=True) | Q(groups__name=ADMINISTRATOR_GROUP))
    )
    return sorted(set(users.exclude(email="").values_list("email", flat=True)))


def _notify_administrators(*, inbox_id: int) -> None:
    inbox = Inbox.objects.filter(pk=inbox_id).first()
    recipients = administrator_emails()
    if inbox is None or not recipients:
        return
    try:
        send_mail(
            subject=f"Switchboard: the inbox {inbox.name} needs re-authorisation",
            message=(
                f"Switchboard can no longer read the mailbox of the inbox {inbox.name!r}: {inbox.state_detail}\n\n"
                "No mail is imported from it until this is fixed. Give it working credentials (a new password in "
                "its IMAP URL, or a new OAuth token) in the admin, then mark it re-authorised there; what arrived "
                "meanwhile is imported then."
            ),
            from_email=None,
            recipient_list=recipients,
        )
    except Exception:
        logger.exception("inbox %s: could not e-mail the administrators about re-authorisation", inbox_id)
