"""Signals the crm services send after their transaction commits.

Routing, websockets and webhooks hang on these; a receiver never sees a change that rolled back,
because the services send them from ``transaction.on_commit``. Receivers get ids, not instances:
they run after the commit and must read fresh state themselves.
"""

from django.dispatch import Signal

# kwargs: interaction_id (int), kind (InteractionEventKind), from_status (str, "" on creation), to_status (str)
interaction_changed = Signal()

# kwargs: message_id (int), interaction_id (int), direction (MessageDirection)
message_created = Signal()

# kwargs: survey_id (int), interaction_id (int), kind (SurveyKind), score (int); sent when an answer committed
survey_answered = Signal()
