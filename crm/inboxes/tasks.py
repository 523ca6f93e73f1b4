"""Celery tasks of the inboxes: thin, each calls one service."""

from celery import shared_task

from .services import mailbox


@shared_task(name="crm.inboxes.tasks.email_poll_due", ignore_result=True, dead_letter_on_failure=False)
def email_poll_due() -> int:
    """Import what is new in the IMAP mailboxes of the e-mail inboxes (by beat). Idempotent: a mailbox being read
    by another worker is skipped, and each message's receipt is unique."""
    return mailbox.email_poll_due()
