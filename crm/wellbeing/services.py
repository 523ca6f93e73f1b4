"""Interaction outcomes for the well-being break policy (agents.break_policy), which cannot read crm itself.

``bad_outcome_streaks`` is the ``BadStreakSource`` crm's beat task hands to ``agents.break_policy.break_due_sweep``.
An interaction ended badly when the customer gave a CSAT of 2 or less, when it breached an SLA target (an
``Escalation`` breach row) or was moved by an escalation, or when the
customer hung up / left while the agent was already talking to them (abandoned after being accepted).
"""

from collections.abc import Mapping, Sequence
from datetime import datetime

from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q
from django.db.models.functions import Coalesce

from agents.break_policy import BadStreak
from agents.models import Agent
from crm.choices import BAD_CSAT_MAX, EscalationKind, InteractionEventKind, InteractionStatus, SurveyKind
from crm.interactions.models import Interaction, InteractionEvent
from crm.sla.models import Escalation
from crm.surveys.models import SurveyResponse

# Finished interactions read per agent: a streak longer than this is long enough to be due anyway.
STREAK_WINDOW = 50
FINISHED = [InteractionStatus.RESOLVED, InteractionStatus.CLOSED, InteractionStatus.ABANDONED]


def bad_outcome_q() -> Q:
    """An interaction that ended badly for the agent handling it."""
    low_csat = SurveyResponse.objects.filter(
        survey__interaction=OuterRef("pk"), survey__kind=SurveyKind.CSAT, score__lte=BAD_CSAT_MAX
    )
    breached = Escalation.objects.filter(interaction=OuterRef("pk"), kind=EscalationKind.BREACH)
    moved = InteractionEvent.objects.filter(interaction=OuterRef("pk"), kind=InteractionEventKind.ESCALATED)
    return (
        Q(status=InteractionStatus.ABANDONED, accepted_at__isnull=False)
        | Q(Exists(low_csat))
        | Q(Exists(breached))
        | Q(Exists(moved))
    )


def bad_outcome_streaks(agents: Sequence[Agent], since: Mapping[int, datetime]) -> dict[int, BadStreak]:
    """Per agent: how many of their interactions finished since ``since[agent]`` ended badly in a row, counting
    back from the latest one (a good one ends the streak), and when the first of that run ended."""
    streaks: dict[int, BadStreak] = {}
    for agent in agents:
        rows = list(
            Interaction.objects.filter(agent=agent, status__in=FINISHED)
            .annotate(ended=Coalesce("resolved_at", "abandoned_at", "closed_at"))
            .filter(ended__gte=since[agent.pk])
            .annotate(bad=ExpressionWrapper(bad_outcome_q(), output_field=BooleanField()))
            .order_by("-ended", "-id")
            .values_list("bad", "ended")[:STREAK_WINDOW]
        )
        count, first = 0, None
        for bad, ended in rows:
            if not bad:
                break
            count, first = count + 1, ended
        if count:
            streaks[agent.pk] = BadStreak(count=count, since=first)
    return streaks
