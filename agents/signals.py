"""Signals other apps listen to; agents never imports them (crm → agents, never the reverse)."""

from django.dispatch import Signal

# Sent on commit after an agent's presence changed, with ``agent``, ``previous`` and ``status``
# (sender=Agent). crm's router reacts to it (an agent becoming available may take queued work),
# and the events layer publishes ``agent.status_changed`` from it.
agent_status_changed = Signal()

# Supervision (issue 6). All are sent on commit with send_robust, sender=Agent, and ``agent``; the events
# layer turns them into console / wallboard notices.
# ``break_requested``, ``break_started``, ``break_ended`` carry ``brk`` (agents.models.Break).
break_requested = Signal()
break_started = Signal()
break_ended = Signal()
# A supervisor approved (or scheduled) or denied a requested break: ``brk``.
break_decided = Signal()
# A well-being break fell due: ``notice`` (agents.models.BreakDueNotice). Sent once per notice.
break_due = Signal()
# A pass expires soon: ``record`` (TrainingRecord) and ``days_left``; sent once per record and lead time.
training_expiring = Signal()
# A pass lapsed: ``record``; the certified skill no longer counts for routing.
training_expired = Signal()
