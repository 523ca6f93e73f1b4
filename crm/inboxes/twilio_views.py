"""Twilio's webhooks of the SMS and WhatsApp inboxes: customers' messages, and status callbacks of our replies.

``POST /inbound/twilio/<inbox token>/`` (the inbox's ``inbound_url``: paste it into the number's "A message comes
in" field) and ``POST /inbound/twilio/<inbox token>/status/`` (sent with each reply as its ``StatusCallback``).
Both accept only a valid ``X-Twilio-Signature``, computed over ``SWITCHBOARD_PUBLIC_URL`` + the path and query:
behind a proxy that is the address Twilio called, not the one the proxy forwarded to. A bad or missing signature is
a 403 and nothing is stored; an unknown or inactive token a 404. A message answers empty TwiML (no automatic
reply: Twilio sends its own for STOP), after it was stored; a duplicate ``MessageSid`` is stored once.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .adapters import MalformedMessage, adapter_for
from .adapters.twilio.signature import twilio_signature_valid
from .models import Inbox
from .services.twilio import twilio_inbox, twilio_message_receive, twilio_status_report

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
MAX_BYTES = 64 * 1024  # Twilio's form posts are a few kilobytes


def _verified(request: HttpRequest, token: str) -> tuple[Inbox | None, HttpResponse | None, bytes]:
    inbox = twilio_inbox(token)
    if inbox is None:
        return None, HttpResponse("No active SMS or WhatsApp inbox has this address.\n", status=404), b""
    if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_BYTES:
        return None, HttpResponse("Too large for a Twilio request.\n", status=413), b""
    payload = request.read(MAX_BYTES + 1)
    if len(payload) > MAX_BYTES:
        return None, HttpResponse("Too large for a Twilio request.\n", status=413), b""
    try:
        fields = inbox_fields(inbox, payload)
    except MalformedMessage as exc:
        return None, HttpResponse(f"{exc.reason}\n", status=400), b""
    url = settings.SWITCHBOARD_PUBLIC_URL.rstrip("/") + request.get_full_path()
    signature = request.headers.get("X-Twilio-Signature", "")
    if not twilio_signature_valid(url=url, params=fields, auth_token=inbox.settings["auth_token"], signature=signature):
        return None, HttpResponse("The X-Twilio-Signature does not match this request.\n", status=403), b""
    return inbox, None, payload


def inbox_fields(inbox: Inbox, payload: bytes) -> list[tuple[str, str]]:
    return adapter_for(inbox.adapter).form_fields(payload)


@csrf_exempt
@require_POST
def twilio_inbound(request: HttpRequest, token: str) -> HttpResponse:
    inbox, refused, payload = _verified(request, token)
    if refused is not None:
        return refused
    try:
        twilio_message_receive(inbox=inbox, payload=payload)
    except MalformedMessage as exc:
        return HttpResponse(f"{exc.reason}\n", status=400)
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")


@csrf_exempt
@require_POST
def twilio_status(request: HttpRequest, token: str) -> HttpResponse:
    inbox, refused, payload = _verified(request, token)
    if refused is not None:
        return refused
    twilio_status_report(inbox=inbox, fields=dict(inbox_fields(inbox, payload)))
    return HttpResponse(status=204)
