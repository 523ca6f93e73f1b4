"""Twilio Voice's callbacks on a voice inbox, turned into the calls' events (``call_start`` / ``call_event``), so a
call through Twilio runs the same lifecycle as one reported to the calls API.

Everything arrives at one URL, the inbox's ``inbound_url`` (``/inbound/twilio/<token>/voice/``), verified like the
SMS webhooks (``X-Twilio-Signature`` keyed by the inbox's ``auth_token``); what a request is follows from its fields:

=================================  ==================================================================================
request (Twilio's fields)          what Switchboard does, and its TwiML answer
=================================  ==================================================================================
``Digits`` (a ``<Gather>``'s       an ``ivr`` step ``{menu: ?menu= of the URL, or "main"; choice: Digits}``; then
action, ``?menu=<name>``)          ``<Redirect>`` to ``?next=`` (the IVR's next step, with ``Digits``) if given,
                                   else the call is queued as below
``QueueResult`` (``<Enqueue>``'s   ``hangup``, ``queue-full``, ``error``, ``system-error``: ``ended`` (abandoned while
action)                            waiting); ``bridged``: ``ended`` (the talk is over: wrap-up); ``leave``,
                                   ``redirected``: nothing. Empty ``<Response/>``
``DequeingCallSid`` (``<Queue      ``answered`` by the one the call was offered to, else ``?agent=<id>`` (of the
url="…?agent=<id>">`` of the       inbox's team). Empty ``<Response/>``
agent's ``<Dial>``)
``RecordingUrl`` (a recording      ``recording`` ``{url}`` once ``RecordingStatus`` is ``completed``. Empty
status callback)                   ``<Response/>``
``CallStatus`` (the number's "A    ``ringing``/``queued``/``in-progress`` on the first request: the call is recorded
call comes in" and "Call status    (``call_start``) and queued in ``?queue=<id>`` (a queue of the inbox's team) or
changes" URLs)                     the inbox's queue, answered
                                   ``<Response><Enqueue action="…">switchboard-queue-<id></Enqueue></Response>``;
                                   ``completed``, ``busy``, ``no-answer``, ``canceled``, ``failed``: ``ended``
                                   (self-service in the IVR, abandoned waiting, wrap-up talking)
=================================  ==================================================================================

Only the "A call comes in" request queues a new call: a status callback (it carries ``CallbackSource`` and
``SequenceNumber``) of ``ringing`` or ``in-progress`` records it and nothing more, as the center's own IVR may be
running. ``in-progress`` means Twilio picked up (TwiML runs), not an agent: agents answer through ``<Queue url>``. A
callback Twilio sends twice (same ``CallSid`` and status, queue result, recording) is applied once: each is an
``InboundReceipt`` keyed by them. A callback that does not fit the call's state (``completed`` after the queue
result already ended it) is recorded as noise with the reason and answered like any other: Twilio cannot act on an
error, and the caller must never hear "an application error has occurred".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit
from xml.sax.saxutils import escape, quoteattr

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import Agent
from config.errors import DomainError
from contacts.services import customer_create, normalize_address
from crm.choices import InteractionStatus
from crm.inboxes.models import InboundReceipt, Inbox, ReceiptStatus
from crm.routing.models import Queue

from .models import Call
from .services import call_event, call_start

logger = logging.getLogger(__name__)

XML = '<?xml version="1.0" encoding="UTF-8"?>'
EMPTY = f"{XML}<Response></Response>"
STARTING = frozenset({"ringing", "queued", "in-progress"})
FINAL = frozenset({"completed", "busy", "no-answer", "canceled", "failed"})
LEFT_WAITING = frozenset({"hangup", "queue-full", "error", "system-error", "bridged"})


@dataclass(frozen=True)
class VoiceCallback:
    """One request: its form fields and the query parameters of the URL Twilio was given (``menu``, ``next``,
    ``queue``, ``agent``), and the voice URL itself (without query) for the TwiML's ``action``."""

    fields: dict[str, str]
    query: dict[str, str]
    voice_url: str


def twilio_voice_inbox(token: str) -> Inbox | None:
    """The active voice inbox with this token and a Twilio account, or None."""
    inbox = Inbox.objects.select_related("queue").filter(token=token, is_active=True, adapter="voice").first()
    return inbox if inbox is not None and inbox.settings.get("auth_token") else None


def twilio_voice_callback(*, inbox: Inbox, callback: VoiceCallback) -> str:
    """Apply one of Twilio's voice requests (see the module's docstring); the TwiML to answer it with."""
    fields, query = callback.fields, callback.query
    sid = fields.get("CallSid", "").strip()
    if not sid:
        raise ValidationError({"CallSid": "a Twilio voice request names its CallSid"})
    if "QueueResult" in fields:
        result = fields["QueueResult"].lower()
        if result in LEFT_WAITING:
            detail = f"queue result {result} after {fields.get('QueueTime') or '?'} s"
            _apply(inbox, sid, key=f"queue:{result}", event="ended", detail=detail)
        return EMPTY
    leg = fields.get("DequeingCallSid") or fields.get("DequeueingCallSid")
    if leg:  # each agent's leg answers once (a transferred call is answered again, by another leg)
        _apply(inbox, sid, key=f"answered:{leg}", event="answered", data=_agent(inbox, query))
        return EMPTY
    if fields.get("RecordingUrl"):
        if (fields.get("RecordingStatus") or "completed") == "completed":
            key = f"recording:{fields.get('RecordingSid') or fields['RecordingUrl']}"
            _apply(inbox, sid, key=key, event="recording", data={"url": fields["RecordingUrl"]})
        return EMPTY
    if "Digits" in fields:  # after RecordingUrl: a <Record>'s action carries the key that ended it as Digits
        return _gathered(inbox, callback, sid)
    status = fields.get("CallStatus", "").lower()
    if status in FINAL:
        _apply(inbox, sid, key=f"status:{status}", event="ended")
        return EMPTY
    if status in STARTING:
        call, created = _call(inbox, sid, fields)
        if fields.get("CallbackSource") or fields.get("SequenceNumber"):
            return EMPTY  # a status callback, not the call asking what to do: an IVR of the center's may be running
        if created or call.interaction.status == InteractionStatus.NEW:
            return _enqueue(inbox, call, callback)
        return _enqueue_twiml(_queue(inbox, callback.query), callback.voice_url)
    return EMPTY


def _gathered(inbox: Inbox, callback: VoiceCallback, sid: str) -> str:
    call, _created = _call(inbox, sid, callback.fields)
    menu = (callback.query.get("menu") or "main")[:60]
    digits = callback.fields.get("Digits", "")[:60]
    _event(inbox, call, key=None, event="ivr", data={"menu": menu, "choice": digits})
    target = callback.query.get("next", "")
    if urlsplit(target).scheme == "https":
        joined = target + ("&" if "?" in target else "?") + urlencode({"Digits": digits})
        return f'{XML}<Response><Redirect method="POST">{escape(joined)}</Redirect></Response>'
    return _enqueue(inbox, call, callback)


def _enqueue(inbox: Inbox, call: Call, callback: VoiceCallback) -> str:
    queue = _queue(inbox, callback.query)
    _event(inbox, call, key="queued", event="queued", data={"queue": queue.pk})
    return _enqueue_twiml(queue, callback.voice_url)


def _enqueue_twiml(queue: Queue, voice_url: str) -> str:
    return (f'{XML}<Response><Enqueue action={quoteattr(voice_url)} method="POST">'
            f"switchboard-queue-{queue.pk}</Enqueue></Response>")  # fmt: skip


def _queue(inbox: Inbox, query: dict[str, str]) -> Queue:
    """``?queue=<id>`` when it is an active queue of the inbox's team (a line feeds only its own team's queues),
    else the inbox's queue."""
    wanted = query.get("queue", "")
    if wanted.isdigit():
        queue = Queue.objects.filter(pk=int(wanted), is_active=True, team_id=inbox.queue.team_id).first()
        if queue is not None:
            return queue
        logger.warning("voice inbox %s: the TwiML names queue %s, not an active one of its team", inbox.pk, wanted)
    return inbox.queue


def _agent(inbox: Inbox, query: dict[str, str]) -> dict[str, str]:
    """``?agent=<id>`` when it is an agent of the inbox's team (else none: only the agent routing offered the call to
    can answer it)."""
    wanted = query.get("agent", "")
    if wanted.isdigit() and Agent.objects.filter(pk=int(wanted), team_id=inbox.queue.team_id).exists():
        return {"agent": wanted}
    return {}


def _call(inbox: Inbox, sid: str, fields: dict[str, str]) -> tuple[Call, bool]:
    """The call of ``CallSid``, recorded on its first request. A caller id that is no phone number (withheld:
    ``anonymous``, Twilio's ``+266696687``; a ``client:`` softphone) still gets through, as a new customer named so:
    a caller must never hear an error because of their number."""
    caller = (fields.get("From") or fields.get("Caller") or "").strip()[:32]
    existing = Call.objects.filter(inbox=inbox, provider_call_id=sid).select_related("interaction").first()
    if existing is not None:
        return existing, False
    try:
        normalize_address(channel="phone", address=caller)
    except ValidationError:
        with transaction.atomic():
            unknown = customer_create(name=_("Withheld number") if caller in ("", "anonymous") else caller)
            return call_start(inbox=inbox, call_id=sid, caller=caller, customer=unknown)
    return call_start(inbox=inbox, call_id=sid, caller=caller)


def _apply(inbox: Inbox, sid: str, *, key: str, event: str, data: dict | None = None, detail: str = "") -> None:
    """An event on a call already recorded (a final status of a call never seen is ignored: nothing to end)."""
    call = Call.objects.filter(inbox=inbox, provider_call_id=sid).first()
    if call is None:
        logger.info("voice inbox %s: %s for a call never recorded, ignored", inbox.pk, key)
        return
    _event(inbox, call, key=key, event=event, data=data, detail=detail)


def _event(
    inbox: Inbox, call: Call, *, key: str | None, event: str, data: dict | None = None, detail: str = ""
) -> None:
    """``call_event`` once per (call, key): a receipt keyed ``voice:<CallSid>:<key>`` in the same transaction.
    ``key`` None: no de-duplication (a caller may take the same menu twice)."""
    with transaction.atomic():
        receipt = None
        if key is not None:
            try:
                with transaction.atomic():
                    receipt = InboundReceipt.objects.create(
                        inbox=inbox,
                        key=f"voice:{call.provider_call_id}:{key}"[:300],
                        status=ReceiptStatus.IMPORTED,
                        source="twilio",
                        sender=call.caller,
                        interaction_id=call.interaction_id,
                        received_at=timezone.now(),
                    )
            except IntegrityError:
                return  # Twilio sent it again: applied already
        try:
            with transaction.atomic():
                call_event(call=call, event=event, data=data)
        except (DomainError, ValidationError) as exc:
            reason = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            logger.info("voice inbox %s: %s on call %s not applied: %s", inbox.pk, event, call.pk, reason)
            if receipt is not None:
                receipt.status, receipt.reason = ReceiptStatus.NOISE, f"{event} not applied: {reason}"[:2000]
                receipt.save(update_fields=["status", "reason"])
        else:
            if receipt is not None and detail:
                receipt.reason = detail
                receipt.save(update_fields=["reason"])
