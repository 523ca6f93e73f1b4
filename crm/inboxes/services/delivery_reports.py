"""What a provider reports about a delivery after accepting it (Twilio's status callbacks): failed after all, or
delivered and read. Recorded with the outbox's own steps (``crm.inboxes.services.delivery``)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from crm.choices import DELIVERY_PROGRESS, DeliveryStatus
from crm.interactions.models import Message

from ..models import Delivery
from .delivery import _announce, _finish

D = DeliveryStatus


def delivery_fail_reported(*, delivery_id: int, error: str) -> str:
    """The provider reports, after accepting it, that a message could not be delivered (Twilio's ``undelivered``):
    the delivery fails with that reason. Answers its status: unchanged when already failed, and when the provider
    already reported it delivered or read (a late, out-of-order callback cannot undo what the customer got)."""
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update(of=("self",)).select_related("message").get(pk=delivery_id)
        if delivery.status not in (D.FAILED, D.DELIVERED, D.READ):
            _finish(delivery, status=D.FAILED, error=error[:2000], now=timezone.now())
        return delivery.status


def delivery_progress_reported(*, delivery_id: int, status: str) -> str:
    """The provider reports a sent message ``delivered`` (or, WhatsApp, ``read``): the delivery and its message move
    forward to it, and the console is told. Only forward along ``DELIVERY_PROGRESS``: a ``delivered`` arriving after
    ``read``, or anything for a pending or failed delivery, changes nothing. Answers the status afterwards."""
    if status not in DELIVERY_PROGRESS:
        raise ValueError(f"not a delivery progress status: {status!r}")
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update(of=("self",)).get(pk=delivery_id)
        current = delivery.status
        if current in DELIVERY_PROGRESS and DELIVERY_PROGRESS.index(status) > DELIVERY_PROGRESS.index(current):
            delivery.status = status
            delivery.save(update_fields=["status"])
            Message.objects.filter(pk=delivery.message_id).update(delivery_status=status)
            message = Message.objects.only("interaction_id").get(pk=delivery.message_id)
            _announce(delivery, interaction_id=message.interaction_id)
        return delivery.status
