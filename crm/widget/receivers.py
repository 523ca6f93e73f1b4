"""After a chat conversation changes status (assigned, resolved…), its visitor's widget hears of it: the status
event makes the widget show who answers, or the inline rating once resolved. Connected in ``CrmConfig.ready``."""

import logging

from django.dispatch import receiver

from contacts.models import ContactIdentity
from crm.interactions.models import Interaction
from crm.interactions.signals import interaction_changed
from crm.live.publisher import publish

from .adapter import visitor_group
from .selectors import widget_rating

logger = logging.getLogger(__name__)


@receiver(interaction_changed, sender=Interaction, dispatch_uid="crm.widget.publish_status")
def publish_widget_status(sender, *, interaction_id, kind, from_status, to_status, batch=None, **kwargs) -> None:
    if batch is not None and kwargs.get("batch_index", 0):
        return  # the whole batch was handled at its first change
    changes = batch if batch else ({"channel": kwargs.get("channel"), "inbox": kwargs.get("inbox")},)
    if not any(
        change.get("channel") is None or (change["channel"] == "chat" and change.get("inbox") is not None)
        for change in changes
    ):
        # no chat of an inbox among them (an e-mail, a chat an integrator created through the API): no visitor to
        # tell, and no query to find that out
        return
    try:
        ids = [change["interaction_id"] for change in batch] if batch else [interaction_id]
        chats = list(
            Interaction.objects.filter(pk__in=ids, channel="chat", inbox__adapter="chat").only(
                "pk", "status", "customer_id"
            )
        )
        # the visitors of all the batch's chats in one query (it was one per chat: a router's batch of many)
        visitors: dict[int, list[str]] = {}
        identities = ContactIdentity.objects.filter(
            customer_id__in={chat.customer_id for chat in chats}, channel="chat"
        )
        for customer_id, address in identities.order_by("id").values_list("customer_id", "address") if chats else ():
            visitors.setdefault(customer_id, []).append(address)
        sends = []
        for chat in chats:
            data = {"conversation": chat.pk, "status": chat.status, "rating": widget_rating(interaction=chat)}
            sends.extend(
                ({visitor_group(visitor)}, "widget.status", data) for visitor in visitors.get(chat.customer_id, ())
            )
    except Exception:
        logger.exception("widget: could not build the status event of interaction %s", interaction_id)
        return
    publish(sends)
