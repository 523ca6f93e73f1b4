"""Celery tasks of the inboxes: thin, each calls one service."""

from celery import shared_task

from .services import mailbox, queued
from .services.delivery import delivery_publish_due, delivery_send
from .services.orphans import orphan_files_sweep


@shared_task(name="crm.inboxes.tasks.email_poll_due", ignore_result=True, dead_letter_on_failure=False)
def email_poll_due() -> int:
    """Import what is new in the IMAP mailboxes of the e-mail inboxes (by beat). Idempotent: a mailbox being read
    by another worker is skipped, and each message's receipt is unique."""
    return mailbox.email_poll_due()


@shared_task(name="crm.inboxes.tasks.email_drain", ignore_result=True, dead_letter_on_failure=False)
def email_drain(inbox_id: int) -> int:
    """Import an inbox's queued mail in arrival order (``services.queued``). Idempotent: a drain waits for the
    one at work on the same inbox, then imports what is still queued; a killed one left its batch queued."""
    queued.drain_starting(inbox_id=inbox_id)  # before reading: mail committed from now on asks for a drain
    return queued.email_drain(inbox_id=inbox_id)


@shared_task(name="crm.inboxes.tasks.email_queued_sweep", ignore_result=True, dead_letter_on_failure=False)
def email_queued_sweep() -> int:
    """(Beat.) Restart the drain of inboxes whose queued mail waits with no drainer at work."""
    return queued.queued_sweep()


@shared_task(name="crm.tasks.delivery_send_task", ignore_result=True)
def delivery_send_task(delivery_id: int) -> str | None:
    """Send one outbound message through its inbox. Idempotent: only a pending, due delivery is sent, and the
    attempt is claimed (committed) before the provider is called, so a redelivered message finds it in flight."""
    return delivery_send(delivery_id=delivery_id)


@shared_task(name="crm.tasks.delivery_publish_due_task", ignore_result=True, dead_letter_on_failure=False)
def delivery_publish_due_task() -> int:
    """The delivery outbox's publisher: pending deliveries that are due (new, retries, lost attempts)."""
    return delivery_publish_due()


@shared_task(name="crm.tasks.orphan_files_sweep_task", ignore_result=True, dead_letter_on_failure=False)
def orphan_files_sweep_task() -> int:
    """Delete stored files that no message names (rolled-back imports, refused uploads). Idempotent."""
    return orphan_files_sweep()
