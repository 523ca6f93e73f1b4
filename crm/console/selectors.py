"""What the agent console reads: the agent's own work, their capacity in use, the queues they serve."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, QuerySet

from agents.access import Viewer
from agents.choices import AgentStatus
from agents.models import Agent
from agents.status_rules import WORK_STATUSES
from config.choices import Channel
from contacts.models import Customer
from contacts.selectors import customer_identities, customer_notes
from crm.choices import OWNED_STATUSES, InteractionStatus
from crm.interactions.models import Interaction
from crm.interactions.selectors import interaction_visibility_q
from crm.routing.models import Queue
from crm.routing.selectors import queue_with_live_figures, queues_served_by
from crm.timeline.selectors import TimelineKind, customer_timeline

# The customer panel reads the customer's whole history (see ``console_customer_panel``): a viewer with no
# team limits, used for that read only.
CUSTOMER_HISTORY_VIEWER = Viewer(unrestricted=True, team_ids=frozenset())

# Offered work first (it waits for the agent's accept), then what they hold, oldest assignment first.
_WORK_ORDER = {
    InteractionStatus.ASSIGNED: 0,
    InteractionStatus.ACTIVE: 1,
    InteractionStatus.ON_HOLD: 2,
    InteractionStatus.WRAP_UP: 3,
}


@dataclass(frozen=True)
class ChannelLoad:
    channel: str
    label: str
    used: int
    max: int

    @property
    def full(self) -> bool:
        return self.used >= self.max


def console_my_work(*, agent: Agent) -> list[Interaction]:
    """The interactions the agent owns (offered, active, on hold, in wrap-up), offered first."""
    work = list(
        Interaction.objects.filter(agent=agent, status__in=sorted(OWNED_STATUSES))
        .select_related("customer", "queue")
        .order_by("assigned_at", "id")
    )
    work.sort(key=lambda interaction: _WORK_ORDER.get(interaction.status, 9))
    return work


def console_status_set_by_system(*, agent: Agent) -> bool:
    """Does the agent's status follow from their work (busy, wrap-up) or from someone else (not ready after a
    missed offer) rather than from their own choice? The console says so beside it."""
    if agent.status in WORK_STATUSES:
        return True
    if agent.status != AgentStatus.NOT_READY:
        return False
    last_actor = agent.status_log.order_by("-changed_at", "-pk").values_list("actor_id", flat=True).first()
    return last_actor != agent.user_id


def console_capacity(*, agent: Agent) -> list[ChannelLoad]:
    """Per channel the agent handles (or holds work on): owned interactions against their capacity."""
    used = dict(
        Interaction.objects.filter(agent=agent, status__in=sorted(OWNED_STATUSES))
        .order_by()
        .values_list("channel")
        .annotate(n=Count("pk"))
    )
    channels = [c for c in Channel.values if agent.capacity_for(c) > 0 or used.get(c)]
    labels = dict(Channel.choices)
    return [ChannelLoad(channel=c, label=labels[c], used=used.get(c, 0), max=agent.capacity_for(c)) for c in channels]


def console_queues(*, agent: Agent) -> QuerySet[Queue]:
    """The queues the agent serves (the router's rule, ``queues_served_by``), with live figures."""
    return queue_with_live_figures(queues_served_by(agent_id=agent.pk).order_by("-priority", "name"))


@dataclass(frozen=True)
class PastInteraction:
    id: int
    at: datetime
    channel: str
    subject: str
    status: str
    disposition: str
    openable: bool  # the viewer may open it in the console (else it is listed, not linked)


@dataclass(frozen=True)
class SurveyAnswer:
    interaction_id: int | None
    at: datetime
    kind: str
    score: int | None
    comment: str


@dataclass(frozen=True)
class CustomerPanel:
    customer: Customer
    identities: list
    past_interactions: list[PastInteraction]
    survey_answers: list[SurveyAnswer]
    notes: list


def console_customer_panel(
    *, customer: Customer, viewer: Viewer, current: Interaction, limit: int = 100
) -> CustomerPanel:
    """The customer beside the conversation: profile, their other interactions with outcomes, survey answers, notes.

    The whole history of the customer, including interactions other teams handled, which the viewer could
    not list otherwise: personalised service needs it (the customer called sales last week). The gate is
    the current interaction: the caller must have checked that the viewer may open ``current`` (the console
    view 404s otherwise). Only summaries are shown (subject, channel, status, outcome, survey answers; no
    message bodies), and an interaction the viewer may not open is listed without a link.
    """
    entries = customer_timeline(customer=customer, viewer=CUSTOMER_HISTORY_VIEWER, limit=limit)
    interaction_entries = [e for e in entries if e.kind == TimelineKind.INTERACTION and e.id != current.pk]
    past_rows = Interaction.objects.filter(pk__in=[e.id for e in interaction_entries])
    dispositions = dict(past_rows.values_list("pk", "disposition"))
    openable = set(past_rows.filter(interaction_visibility_q(viewer)).values_list("pk", flat=True))
    past = [
        PastInteraction(
            id=e.id,
            at=e.at,
            channel=e.channel,
            subject=e.title,
            status=e.status,
            disposition=dispositions.get(e.id, ""),
            openable=e.id in openable,
        )
        for e in interaction_entries
    ]
    answers = [
        SurveyAnswer(interaction_id=e.interaction_id, at=e.at, kind=e.title, score=e.score, comment=e.body)
        for e in entries
        if e.kind == TimelineKind.SURVEY_RESPONSE
    ]
    return CustomerPanel(
        customer=customer,
        identities=list(customer_identities(customer=customer)),
        past_interactions=past,
        survey_answers=answers,
        notes=list(customer_notes(customer=customer)[:20]),
    )
