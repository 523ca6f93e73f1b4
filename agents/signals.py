"""Signals other apps listen to; agents never imports them (crm → agents, never the reverse)."""

from django.dispatch import Signal

# Sent on commit after an agent's presence changed, with ``agent``, ``previous`` and ``status``
# (sender=Agent). crm's router reacts to it (an agent becoming available may take queued work),
# and the events layer publishes ``agent.status_changed`` from it.
agent_status_changed = Signal()
