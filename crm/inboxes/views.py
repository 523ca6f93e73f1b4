"""The raw-MIME inbound endpoint: MTAs and mail providers POST one RFC 822 message per request.

``POST /inbound/email/<inbox token>/`` with ``Content-Type: message/rfc822`` (or ``application/octet-stream``)
and the message as the body. The token in the URL is the secret (shown once when the inbox is made); there is no
session, no CSRF token and no throttle (an MTA posts a lot). The answer comes only after the message is stored,
as ``{"receipt": id, "status": "imported" | "noise" | "failed" | "queued", "interaction": id | null,
"message": id | null}``.

How it is imported is the inbox's ``import`` setting. ``"immediate"`` (the default): the import happens before
the answer, which is

* ``201`` — a new receipt: the message was imported (a new interaction or a reply joined to its thread) or
  recorded as noise (auto-reply, bounce, our own mail);
* ``202`` — stored but not imported (``failed``: the message cannot be read, or the import was refused): the raw
  bytes and the reason are kept and an administrator can run it again from the admin. Still a 2xx: the MTA must
  neither retry nor bounce it to its sender, since nothing more can come of that;
* ``200`` — a duplicate: this message (its Message-ID, or the synthetic key of one without) was already here;
  nothing was done.

``"queued"``: the answer comes once the raw message is stored, before it is read whole (the headers give its
de-duplication key; ``services.queued``); a worker imports the inbox's queued mail in arrival order, with the
same results as above, shown in the receipts admin:

* ``202`` ``{"status": "queued", "interaction": null, "message": null}`` — stored (a new receipt, or a failed one
  delivered again);
* ``200`` — a duplicate, as above (its receipt as it stands: queued, imported, noise).

Nothing is stored for the 4xx answers: ``404`` unknown or inactive token, ``405`` not a POST, ``415`` another
content type, ``413`` a body over ``SWITCHBOARD_EMAIL_MAX_BYTES`` (by its Content-Length before reading, and by
reading at most one byte more than the limit), ``400`` an empty body.
"""

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .models import ReceiptStatus
from .selectors import email_inbox_for_token
from .services.inbound import email_receive
from .services.queued import InboxClosed, email_accept

ACCEPTED_TYPES = ("message/rfc822", "application/octet-stream")


def _error(status: int, detail: str) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=status)


# A queued acceptance may read its inbox up to this many seconds behind a change made in another process: its INSERT
# itself checks that the inbox is still active with this token, so only the inbox's settings can lag, not whether
# it takes mail (config.rowcache's ``stale_for``: no Redis round trip per mail in a burst).
QUEUED_SETTINGS_LAG_SECONDS = 5
GONE = "No active e-mail inbox has this address."


@csrf_exempt
@require_POST
def email_inbound(request: HttpRequest, token: str) -> JsonResponse:
    # from the per-process cache (a unique index answers a miss); a wrong token learns nothing but "not found"
    inbox = email_inbox_for_token(token, with_queue=False, stale_for=QUEUED_SETTINGS_LAG_SECONDS, read_only=True)
    if inbox is None:
        return _error(404, GONE)
    if request.content_type not in ACCEPTED_TYPES:
        return _error(415, f"Send the raw message as {ACCEPTED_TYPES[0]} (got {request.content_type or 'none'}).")
    limit = settings.SWITCHBOARD_EMAIL_MAX_BYTES
    too_big = f"The message is larger than the limit of {limit} bytes."
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _error(400, "Content-Length is not a number.")
    if declared > limit:
        return _error(413, too_big)
    raw = request.read(limit + 1)  # not request.body: its smaller API limit does not apply to mail
    if len(raw) > limit:
        return _error(413, too_big)
    if not raw.strip():
        return _error(400, "The body is empty: send the raw message.")
    if (inbox.settings or {}).get("import") == "queued":
        try:
            receipt = email_accept(inbox=inbox, raw=raw, source="endpoint", cached=True)
        except InboxClosed:
            return _error(404, GONE)
    else:
        inbox = email_inbox_for_token(token)  # the import reads the inbox as it is now
        if inbox is None:
            return _error(404, GONE)
        receipt = email_receive(inbox=inbox, raw=raw, source="endpoint")
    if receipt.duplicate:
        status = 200
    elif receipt.status == ReceiptStatus.QUEUED:
        status = 202
    elif receipt.status == ReceiptStatus.FAILED:
        status = 202
    else:
        status = 201
    return JsonResponse(
        {
            "receipt": receipt.pk,
            "status": receipt.status,
            "interaction": receipt.interaction_id,
            "message": receipt.message_id,
        },
        status=status,
    )
