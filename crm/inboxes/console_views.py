"""The console's pages for what inboxes add to an interaction: a reply's retry, and attachment downloads.

Both follow the console's rule: an interaction the person may not see is a 404, exactly as if it did not exist;
retrying a reply needs the right to write on the interaction (``interaction_action_refusal``, ``message``), the
rule the API's retry follows too.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from agents.access import viewer_from_request
from config.errors import DomainError
from crm.interactions.models import Interaction, Message
from crm.interactions.permissions import InteractionAction, interaction_action_refusal
from crm.interactions.selectors import interaction_list

from .attachments import attachment_is_stored, attachment_open
from .services.delivery import delivery_retry


def _visible_message(request: HttpRequest, pk: int, message_pk: int) -> tuple[Interaction, Message]:
    interaction = interaction_list(viewer=viewer_from_request(request)).filter(pk=pk).first()
    message = Message.objects.filter(pk=message_pk, interaction_id=pk).first() if interaction else None
    if message is None:
        raise Http404("No such message.")
    return interaction, message


@require_POST
@login_required
def message_retry(request: HttpRequest, pk: int, message_pk: int) -> HttpResponse:
    interaction, message = _visible_message(request, pk, message_pk)
    refusal = interaction_action_refusal(
        viewer=viewer_from_request(request), interaction=interaction, action=InteractionAction.MESSAGE
    )
    if refusal is not None:
        return render(
            request, "console/forbidden.html", {"title": gettext("Not yours to do"), "reason": refusal}, status=403
        )
    try:
        delivery_retry(message=message)
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, gettext("The reply will be sent again."))
    return redirect(reverse("console:interaction", args=[pk]) + f"#message-{message.pk}")


@require_GET
@login_required
def message_attachment(request: HttpRequest, pk: int, message_pk: int, index: int) -> FileResponse:
    _, message = _visible_message(request, pk, message_pk)
    entries = message.attachments if isinstance(message.attachments, list) else []
    entry = entries[index] if 0 <= index < len(entries) else None
    if not isinstance(entry, dict) or not attachment_is_stored(entry):
        raise Http404("No such attachment.")
    try:
        handle = attachment_open(entry)
    except OSError:
        raise Http404("The file of this attachment is gone.") from None
    # always a download, never rendered in our origin: a customer's HTML file must not run as our page
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=str(entry.get("name") or "attachment"),
        content_type=str(entry.get("content_type") or "application/octet-stream"),
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
