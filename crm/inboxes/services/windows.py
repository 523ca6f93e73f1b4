"""Channel rules on when a free-form reply may go out: WhatsApp's 24-hour customer-service window.

WhatsApp lets a business answer freely for 24 hours after the customer's last message; after that only an
approved message template may be sent (the inbox's ``templates``; the agent writes ``template:<name>``). A reply
outside the window fails at once with a message that says so, instead of being refused by Twilio later.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Max
from django.utils import timezone

from config.choices import Channel
from crm.choices import MessageDirection
from crm.interactions.models import Message

from ..adapters import PermanentFailure
from ..adapters.twilio import TEMPLATE_PREFIX
from ..models import Delivery

WHATSAPP_WINDOW = timedelta(hours=24)


def check_reply_window(*, delivery: Delivery) -> None:
    """``PermanentFailure`` when the delivery's message may not be sent now on its channel."""
    interaction = delivery.message.interaction
    if interaction.channel != Channel.WHATSAPP:
        return
    body = delivery.message.body.strip()
    if body.startswith(TEMPLATE_PREFIX):
        name = body[len(TEMPLATE_PREFIX) :].strip()
        if name in (delivery.inbox.settings.get("templates") or {}):
            return  # an approved template may always be sent
        raise PermanentFailure(f"no approved WhatsApp template named {name!r} on the inbox {delivery.inbox.name}")
    last = Message.objects.filter(
        interaction__customer_id=interaction.customer_id,
        interaction__channel=Channel.WHATSAPP,
        direction=MessageDirection.INBOUND,
    ).aggregate(last=Max("created_at"))["last"]
    if last is None or timezone.now() - last > WHATSAPP_WINDOW:
        since = f"last wrote {timezone.localtime(last):%Y-%m-%d %H:%M}" if last else "has not written"
        raise PermanentFailure(
            f"outside WhatsApp's 24-hour window (the customer {since}): only an approved template may be sent "
            f"now (write template:<name>)",
            code="whatsapp_window",
        )
