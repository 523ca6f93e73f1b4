"""``POST /inbound/twilio/<voice inbox token>/voice/``: Twilio Voice's requests and status callbacks on a voice inbox
(``crm.calls.twilio`` says which request does what). Accepted only with a valid ``X-Twilio-Signature`` over
``SWITCHBOARD_PUBLIC_URL`` + the path and query, keyed by the inbox's ``auth_token`` (as the SMS webhooks): anything
else is a 403 and nothing is stored; an unknown token, or a voice inbox not connected to Twilio, a 404. Answers TwiML.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from crm.inboxes.adapters import MalformedMessage
from crm.inboxes.adapters.twilio import TwilioAdapter
from crm.inboxes.adapters.twilio.signature import twilio_signature_valid

from .twilio import VoiceCallback, twilio_voice_callback, twilio_voice_inbox

MAX_BYTES = 64 * 1024  # Twilio's voice requests are a few kilobytes


@csrf_exempt
@require_POST
def twilio_voice(request: HttpRequest, token: str) -> HttpResponse:
    inbox = twilio_voice_inbox(token)
    if inbox is None:
        return HttpResponse("No active voice inbox connected to Twilio has this address.\n", status=404)
    payload = request.read(MAX_BYTES + 1)
    if len(payload) > MAX_BYTES:
        return HttpResponse("Too large for a Twilio request.\n", status=413)
    try:
        fields = TwilioAdapter.form_fields(payload)
    except MalformedMessage as exc:
        return HttpResponse(f"{exc.reason}\n", status=400)
    url = settings.SWITCHBOARD_PUBLIC_URL.rstrip("/") + request.get_full_path()
    signature = request.headers.get("X-Twilio-Signature", "")
    if not twilio_signature_valid(url=url, params=fields, auth_token=inbox.settings["auth_token"], signature=signature):
        return HttpResponse("The X-Twilio-Signature does not match this request.\n", status=403)
    callback = VoiceCallback(
        fields=dict(fields),
        query={key: value for key, value in request.GET.items()},
        voice_url=settings.SWITCHBOARD_PUBLIC_URL.rstrip("/") + request.path,
    )
    try:
        twiml = twilio_voice_callback(inbox=inbox, callback=callback)
    except ValidationError as exc:
        return HttpResponse("; ".join(exc.messages) + "\n", status=400)
    return HttpResponse(twiml, content_type="text/xml")
