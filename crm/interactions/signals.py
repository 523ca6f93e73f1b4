"""Signals the crm services send after their transaction commits.

Routing, websockets and webhooks hang on these; a receiver never sees a change that rolled back,
because the services send them from ``transaction.on_commit``. Receivers get ids, not instances:
they run after the commit and must read fresh state themselves.
"""

from django.dispatch import Signal

# kwargs: interaction_id (int), kind (InteractionEventKind), from_status (str, "" on creation), to_status (str)
# Changes committed together by one service call (a router's batch) also carry batch (a tuple of dicts with
# those four keys, every change of the commit in order) and batch_index (this change's place in it), so a
# receiver may handle the batch at once, at its first change, and skip the others.
interaction_changed = Signal()

# kwargs: message_id (int), interaction_id (int), direction (MessageDirection)
message_created = Signal()

# An SLA clock passed its due time (the escalation's step 0), sent once per clock run when the sweep records it.
# kwargs: escalation_id (int), interaction_id (int), target ("first_response"|"next_response"|"resolution"),
#         step (int), kind ("warn"|"breach"), due_at (datetime: when it fell due, not when the sweep saw it)
sla_breached = Signal()

# A "warn" escalation step fell due (e.g. at 80 % of a target); same kwargs as sla_breached.
sla_warning = Signal()

# One sweep's breaches at once, sent after its sla_breached signals: kwargs breaches (a list of sla_breached's
# kwargs). A receiver that does I/O per breach (the live events) hangs here instead, so a sweep that records
# 1,000 breaches costs it one query and one publish rather than 1,000 of each.
sla_breaches = Signal()

# kwargs: survey_id (int), interaction_id (int), kind (SurveyKind), score (int); sent when an answer committed
survey_answered = Signal()
