"""What inboxes register on the core's hooks.

``message_saved`` (``crm.interactions.hooks``): ``enqueue_delivery`` writes the delivery of an outbound message
that has an inbox, in the message's transaction (the outbox: ``crm.inboxes.services.delivery``). Registered
before the webhooks' handler, so the ``message.created`` event of a reply already says it is ``pending``.
"""

from crm.interactions import hooks as core
from crm.interactions.models import Message

from .services.delivery import delivery_enqueue


def enqueue_delivery(*, message: Message) -> None:
    delivery_enqueue(message=message)


def register() -> None:
    core.message_saved.register(enqueue_delivery)
