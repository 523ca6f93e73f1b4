"""Signals the core sends after its transaction commits (``crm.interactions.hooks`` is what runs inside it).

Routing triggers and the live websockets hang on these; a receiver never sees a change that rolled back,
because the services send them from ``transaction.on_commit``. Receivers get ids, not instances:
they run after the commit and must read fresh state themselves.
"""

from django.dispatch import Signal

# kwargs: interaction_id (int), kind (InteractionEventKind), from_status (str, "" on creation), to_status (str),
# channel (str, or None when the sender did not have it at hand: a receiver that cares reads it), inbox (the
# interaction's inbox id, None without one; meaningful only when channel is not None)
# Changes committed together by one service call (a router's batch) also carry batch (a tuple of dicts with
# those six keys, every change of the commit in order) and batch_index (this change's place in it), so a
# receiver may handle the batch at once, at its first change, and skip the others.
interaction_changed = Signal()

# kwargs: message_id (int), interaction_id (int), direction (MessageDirection), agent_id (int | None: the agent
# holding the interaction when the message was written, under its lock; a receiver need not read it again)
message_created = Signal()
