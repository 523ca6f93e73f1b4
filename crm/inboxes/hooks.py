"""What inboxes register on the core's hooks.

``message_saving`` (``crm.interactions.hooks``): ``mark_delivery_pending`` writes a reply that leaves through an
inbox ``pending`` in its INSERT (its delivery is written next, in the same transaction).
``message_saved``: ``enqueue_delivery`` writes the delivery of an outbound message
that has an inbox, in the message's transaction (the outbox: ``crm.inboxes.services.delivery``). Registered
before the webhooks' handler, so the ``message.created`` event of a reply already says it is ``pending``.
``claim_files`` takes the message's stored files out of the orphan ledger once its transaction commits
(``crm.inboxes.file_ledger``). ``note_message_written`` hands an e-mail import the first message of the
interaction it creates (``crm.inboxes.services.inbound``), so it is not read back.
"""

from django.db import transaction

from crm.interactions import hooks as core
from crm.interactions.models import Message

from .attachments import attachment_is_stored
from .file_ledger import files_claimed
from .services.delivery import delivery_enqueue, delivery_mark_pending
from .services.inbound import note_message_written


def mark_delivery_pending(*, message: Message) -> None:
    delivery_mark_pending(message=message)


def enqueue_delivery(*, message: Message) -> None:
    delivery_enqueue(message=message)


def claim_files(*, message: Message) -> None:
    paths = [entry["path"] for entry in message.attachments or [] if attachment_is_stored(entry)]
    if paths:
        transaction.on_commit(lambda: files_claimed(paths))


def register() -> None:
    core.message_saving.register(mark_delivery_pending)
    core.message_saved.register(enqueue_delivery)
    core.message_saved.register(claim_files)
    core.message_saved.register(note_message_written)
