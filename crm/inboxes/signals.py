"""Signals of inboxes, sent after the change committed (``crm.live`` publishes them to the console)."""

from django.dispatch import Signal

# A delivery's state changed (sent, failed, a retry scheduled, put back by a person).
# kwargs: delivery_id, message_id, interaction_id (ints), status (DeliveryStatus), error (str), attempts (int)
delivery_changed = Signal()
