"""Typing indicators between an agent's console and the visitor's widget.

The visitor's side goes over the widget socket (``consumer.visitor_typing`` → the agent's live group, event
``visitor.typing``). The agent's side is ``POST /console/widget/typing/<interaction id>/`` from the console while
the reply box is being written: only the agent who holds the chat (signed in, session + CSRF), anything else 404;
it publishes ``widget.typing`` to the visitor's socket group(s). Nothing is stored.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_POST

from agents.models import Agent
from contacts.models import ContactIdentity
from crm.interactions.models import Interaction
from crm.live.publisher import publish

from .adapter import visitor_group

TYPING_STATUSES = ("assigned", "active", "on_hold")


def agent_typing_publish(*, agent: Agent, interaction_id: int) -> bool:
    """Tell the visitor of ``agent``'s chat that the agent is typing; False when it is not their open chat."""
    chat = (
        Interaction.objects.filter(
            pk=interaction_id, agent=agent, channel="chat", inbox__adapter="chat", status__in=TYPING_STATUSES
        )
        .only("pk", "customer_id")
        .first()
    )
    if chat is None:
        return False
    visitors = ContactIdentity.objects.filter(customer_id=chat.customer_id, channel="chat").values_list(
        "address", flat=True
    )
    publish([({visitor_group(visitor)}, "widget.typing", {"conversation": chat.pk}) for visitor in visitors])
    return True


@require_POST
@login_required
def agent_typing(request: HttpRequest, pk: int) -> HttpResponse:
    agent = Agent.objects.filter(user=request.user).first()
    if agent is None or not agent_typing_publish(agent=agent, interaction_id=pk):
        raise Http404("No open chat of yours.")
    return HttpResponse(status=204)
