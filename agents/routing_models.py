"""What the router needs to know of each agent, kept by the database: ``AgentRouting``."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AgentRouting(models.Model):
    """An agent's current load per channel and the time of their latest assignment, one row per agent.

    Kept by PostgreSQL, never by Python: a trigger on ``agents_agent`` gives every new agent their row, and the
    triggers on ``crm_interaction`` (migration ``crm 0023_routing_agent_load``) change it in the same statement as
    every move that changes what an agent owns (assigned, active, on hold, wrap-up) or when they were last given
    work, whatever made the move (a service, the admin, raw SQL). ``load`` is ``{channel: n}`` without zeros, the
    count of the agent's owned interactions; ``last_assigned_at`` is the latest ``assigned_at`` among all their
    interactions. Changing it takes the row's lock, so a router that holds the lock (``FOR UPDATE``) reads a load
    nobody else can change before it commits. ``crm.routing.services.loads`` recounts it and repairs drift.
    """

    agent = models.OneToOneField(
        "agents.Agent", on_delete=models.CASCADE, primary_key=True, related_name="routing", editable=False
    )
    load = models.JSONField(default=dict, editable=False)
    last_assigned_at = models.DateTimeField(null=True, editable=False)

    class Meta:
        verbose_name, verbose_name_plural = _("agent routing state"), _("agent routing states")

    def __str__(self) -> str:
        return f"{self.agent_id}: {self.load}"
