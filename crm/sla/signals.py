"""Signals of the SLA sweep, sent after its transaction commits (receivers get ids, not instances)."""

from django.dispatch import Signal

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
