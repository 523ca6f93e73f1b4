"""Which subscriptions hear an event type: read on every create and reply, so cached per process."""

from django.db import DEFAULT_DB_ALIAS
from django.db.models import Q

from config.rowcache import RowCache

from .models import Webhook

# The active subscriptions of each event type, per process (``config.rowcache``): emitting is on the path of every
# create and reply. A subscription created, deleted, (de)activated or re-subscribed empties it in every process;
# a failure count does not.
_subscribers = RowCache("webhook subscriptions", watch={"crm.Webhook": {"events", "is_active"}})


def webhook_subscriber_ids(*, type: str) -> list[int]:
    """The ids of the active subscriptions to ``type`` (or to everything), from the per-process cache."""
    return _subscribers.get(
        type,
        lambda: list(
            Webhook.objects.using(DEFAULT_DB_ALIAS)
            .filter(is_active=True)
            .filter(Q(events__contains=[type]) | Q(events__contains=["*"]))
            .order_by("pk")
            .values_list("pk", flat=True)
        ),
    )
