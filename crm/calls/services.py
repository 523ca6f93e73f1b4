"""Calls and the events a telephony platform reports about them, turned into the interaction's lifecycle.

``call_start`` records a call on a voice inbox (once per provider call id: a platform retrying gets the same call)
as an interaction that waits *outside* any queue while the caller is in the IVR menu. ``call_event`` applies one
event; each maps to the lifecycle service a person would use, so routing, SLA, surveys and reports see an ordinary
voice interaction:

======================  ==========================================================================================
``ringing``             nothing changes (the platform says it reached us)
``ivr``                 ``{"menu", "choice"}`` appended to the IVR path (only while the call is in the IVR)
``queued``              into ``{"queue"}`` or the inbox's queue: routing offers it to an agent with voice capacity
``answered``            the offered agent (or ``{"agent"}``, for a call the platform connected itself) picks up
``hold`` / ``resume``   on hold and back
``transferred``         to ``{"queue"}`` or ``{"agent"}``
``ended``               in the IVR: self-service; waiting or offered: abandoned (at its last IVR step); talking:
                        wrap-up for the agent
``recording``           ``{"url"}`` of the recording; not stored when the customer withdrew recording consent
                        (``Customer.recording_consent``): the event log says "recording withheld: no consent"
======================  ==========================================================================================

An event that does not fit the call's state (answered before it was queued, an IVR step after the queue) is a
``DomainError`` (409) naming why; a malformed one a ``ValidationError`` (400).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import Agent
from config.choices import Channel
from config.errors import DomainError
from contacts.models import Customer
from crm.choices import InteractionEventKind, InteractionStatus
from crm.inboxes.models import Inbox
from crm.interactions import services as lifecycle
from crm.routing.models import Queue

from .models import Call, CallOutcome

S = InteractionStatus
EVENTS = ("ringing", "ivr", "queued", "answered", "hold", "resume", "transferred", "ended", "recording")
WAITING = frozenset({S.QUEUED, S.ASSIGNED})
TALKING = frozenset({S.ACTIVE, S.ON_HOLD})


def call_start(*, inbox: Inbox, call_id: str, caller: str, customer: Customer | None = None) -> tuple[Call, bool]:
    """The call (created, True) or the one already recorded under ``call_id`` (False). The caller's customer is
    found (or created) by the number ``caller``, unless ``customer`` is given (a withheld number: nobody to find)."""
    if inbox.channel != Channel.VOICE or not inbox.is_active:
        raise ValidationError({"inbox": _("Calls come in through an active voice inbox.")})
    call_id = str(call_id).strip()
    if not call_id or len(call_id) > 100:
        raise ValidationError({"call_id": _("The platform's call id: 1 to 100 characters.")})
    existing = Call.objects.filter(inbox=inbox, provider_call_id=call_id).select_related("interaction").first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            interaction = lifecycle.interaction_create_inbound(
                channel=Channel.VOICE,
                customer=customer,
                customer_identity=None if customer is not None else {"address": caller, "channel": "phone"},
                inbox=inbox,
                subject=f"Call from {caller}",
                enqueue=False,
            )
            call = Call.objects.create(
                interaction=interaction,
                inbox=inbox,
                provider_call_id=call_id,
                caller=interaction.customer.phone or caller,
                started_at=timezone.now(),
            )
    except IntegrityError:  # the same call started twice at once: the first one stands
        return Call.objects.select_related("interaction").get(inbox=inbox, provider_call_id=call_id), False
    return call, True


def call_event(*, call: Call, event: str, data: dict[str, Any] | None = None) -> Call:
    """Apply one event (see the module's docstring); the call as it is afterwards."""
    data = data or {}
    if event not in EVENTS:
        raise ValidationError({"type": _("One of: %(join)s.") % {"join": ", ".join(EVENTS)}})
    with transaction.atomic():
        call = Call.objects.select_for_update().select_related("interaction", "inbox__queue").get(pk=call.pk)
        interaction = call.interaction
        if call.outcome != CallOutcome.IN_PROGRESS and event != "recording":
            raise DomainError(
                _("Call %(provider_call_id)s has ended; only its recording may still come.")
                % {"provider_call_id": call.provider_call_id}
            )
        handler = _HANDLERS.get(event)
        if handler is not None:
            handler(call, interaction, data)
        call.save()
    return call


def _ivr(call: Call, interaction, data) -> None:
    menu, choice = str(data.get("menu") or "").strip(), str(data.get("choice") or "").strip()
    if not menu or len(menu) > 60 or len(choice) > 60:
        raise ValidationError({"menu": _("The IVR menu's name (and the caller's choice): up to 60 characters each.")})
    if interaction.status != S.NEW:
        raise DomainError(_("The call has left the IVR menu; an IVR step can no longer be added."))
    call.ivr_path = [*call.ivr_path, {"menu": menu, "choice": choice, "at": timezone.now().isoformat()}]


def _queued(call: Call, interaction, data) -> None:
    queue = _queue(data) or call.inbox.queue
    if interaction.status != S.NEW:
        raise DomainError(
            _("The call is %(status)s; only a call in the IVR can be queued.") % {"status": interaction.status}
        )
    lifecycle.interaction_enqueue(interaction=interaction, queue=queue)


def _answered(call: Call, interaction, data) -> None:
    agent = _agent(data)
    if interaction.status == S.QUEUED:
        if agent is None:
            raise ValidationError({"agent": _("Name the agent who answered: the call was not offered to anyone yet.")})
        interaction = lifecycle.interaction_assign(interaction=interaction, agent=agent)
    elif interaction.status != S.ASSIGNED:
        raise DomainError(
            _("The call is %(status)s; only a waiting or offered call can be answered.")
            % {"status": interaction.status}
        )
    lifecycle.interaction_accept(interaction=interaction)
    call.answered_at = timezone.now()


def _hold(call: Call, interaction, data) -> None:
    lifecycle.interaction_hold(interaction=interaction)


def _resume(call: Call, interaction, data) -> None:
    lifecycle.interaction_resume(interaction=interaction)


def _transferred(call: Call, interaction, data) -> None:
    queue, agent = _queue(data), _agent(data)
    if (queue is None) == (agent is None):
        raise ValidationError({"queue": _("Give exactly one of queue and agent.")})
    lifecycle.interaction_transfer(interaction=interaction, to_queue=queue, to_agent=agent)


def _ended(call: Call, interaction, data) -> None:
    call.ended_at = timezone.now()
    if interaction.status == S.NEW:
        lifecycle.interaction_self_served(interaction=interaction)
        call.outcome = CallOutcome.SELF_SERVICE
    elif interaction.status in WAITING:
        lifecycle.interaction_abandon(interaction=interaction)
        call.outcome, call.abandoned_at_step = CallOutcome.ABANDONED, call.last_step
    elif interaction.status in TALKING:
        if interaction.status == S.ON_HOLD:
            interaction = lifecycle.interaction_resume(interaction=interaction)
        lifecycle.interaction_wrap_up(interaction=interaction)
        call.outcome = CallOutcome.ANSWERED
    else:
        call.outcome = CallOutcome.ANSWERED if call.answered_at else CallOutcome.ABANDONED


def _recording(call: Call, interaction, data) -> None:
    url = str(data.get("url") or "").strip()
    if not url.startswith(("https://", "http://")) or len(url) > 500:
        raise ValidationError({"url": _("The recording's http(s) URL.")})
    if not interaction.customer.recording_consent:
        # the customer withdrew consent: the link to their voice is not kept, and the log says why it is missing
        lifecycle.log_event(
            interaction=interaction,
            kind=InteractionEventKind.RECORDING_WITHHELD,
            from_status=interaction.status,
            to_status=interaction.status,
            at=timezone.now(),
            data={"reason": "recording withheld: no consent", "call_id": call.provider_call_id},
        )
        return
    call.recording_url = url


def _queue(data) -> Queue | None:
    if data.get("queue") in (None, ""):
        return None
    queue = Queue.objects.filter(pk=data["queue"], is_active=True).first() if str(data["queue"]).isdigit() else None
    if queue is None:
        raise ValidationError({"queue": _("No such active queue.")})
    return queue


def _agent(data) -> Agent | None:
    if data.get("agent") in (None, ""):
        return None
    agent = Agent.objects.filter(pk=data["agent"], is_active=True).first() if str(data["agent"]).isdigit() else None
    if agent is None:
        raise ValidationError({"agent": _("No such active agent.")})
    return agent


_HANDLERS = {
    "ivr": _ivr,
    "queued": _queued,
    "answered": _answered,
    "hold": _hold,
    "resume": _resume,
    "transferred": _transferred,
    "ended": _ended,
    "recording": _recording,
}
