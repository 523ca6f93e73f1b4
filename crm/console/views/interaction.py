"""The console's interaction page and its actions: each action is one form POST calling one service.

Who may act on an interaction is decided by ``crm.interactions.permissions.interaction_action_refusal``, the rule
the API uses too: a refusal is a 403 page with its reason (and an interaction the caller may not see is a 404). A
move the current state does not allow (``DomainError``) comes back as the page with the service's message (409);
input the form refuses comes back with the field errors (400).
"""

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from agents.access import Viewer, viewer_from_request
from agents.models import Agent
from config.errors import DomainError
from crm.calls.models import Call
from crm.choices import InteractionStatus, MessageDirection
from crm.inboxes.console_forms import reply_attachments_store
from crm.inboxes.selectors import conversation_with_deliveries, interaction_reply_route
from crm.interactions import services
from crm.interactions.models import Interaction
from crm.interactions.permissions import (
    InteractionAction,
    interaction_action_refusal,
    interaction_permitted_actions,
)
from crm.interactions.selectors import interaction_assignable_agents, interaction_list, message_list
from crm.quality.selectors import canned_response_list
from crm.routing.selectors import interaction_target_queues

from ..forms import NoteForm, ReplyForm, ResolveForm, TransferForm, apply_service_errors
from ..selectors import console_customer_panel
from .home import agent_required

S = InteractionStatus


def _visible_interaction(request: HttpRequest, pk: int, *, page: bool = True) -> Interaction:
    """The interaction if the caller may see it; 404 otherwise, exactly as if it did not exist. ``page``: with what
    the page shows joined in; an action, which draws the page only when it fails, reads the row alone (the joins
    were a fifth of a reply's CPU; the service it calls locks and reads what it needs)."""
    viewer = viewer_from_request(request)
    visible = interaction_list(viewer=viewer)
    if page:  # one read: the row as the viewer may see it, with what the page shows (it was a second read)
        visible = visible.select_related("customer__organization", "queue", "agent", "inbox")
    try:
        return visible.get(pk=pk)
    except Interaction.DoesNotExist:
        raise Http404("No such interaction.") from None


def _transfer_form(request: HttpRequest, interaction: Interaction, data=None) -> TransferForm:
    viewer = viewer_from_request(request)
    queues = interaction_target_queues(viewer=viewer).filter(is_active=True, channels__contains=[interaction.channel])
    agents = interaction_assignable_agents(viewer=viewer)
    if interaction.agent_id is not None:
        agents = agents.exclude(pk=interaction.agent_id)
    return TransferForm(data, queues=queues.order_by("name"), agents=agents.order_by("name"))


# The buttons of the interaction page, and the action each stands for.
_BUTTONS = {
    "accept": InteractionAction.ACCEPT,
    "hold": InteractionAction.HOLD,
    "resume": InteractionAction.RESUME,
    "resolve": InteractionAction.RESOLVE,
    "transfer": InteractionAction.TRANSFER,
    "reply": InteractionAction.MESSAGE,
    "note": InteractionAction.MESSAGE,
}


def _allowed_actions(interaction: Interaction, agent: Agent, viewer: Viewer) -> set[str]:
    """Which buttons to offer: what the status allows and the viewer may do (the services and the action views
    still decide, so a stale page gets their message, not a crash)."""
    status = interaction.status
    actions = set()
    if status == S.ASSIGNED and interaction.agent_id == agent.pk:
        actions.add("accept")
    if status == S.ACTIVE:
        actions |= {"hold", "resolve"}
    if status == S.WRAP_UP:
        actions.add("resolve")
    if status == S.ON_HOLD:
        actions.add("resume")
    if status in services.TRANSFER_FROM:
        actions.add("transfer")
    if status not in services.CLOSED_TO_MESSAGES:
        actions |= {"reply", "note"}
    permitted = interaction_permitted_actions(viewer=viewer, interaction=interaction)
    return {name for name in actions if _BUTTONS[name] in permitted}


def _render_interaction(
    request: HttpRequest,
    interaction: Interaction,
    *,
    bound: dict[str, forms.Form] | None = None,
    status: int = 200,
) -> HttpResponse:
    viewer = viewer_from_request(request)
    page_forms: dict[str, forms.Form] = {
        "reply_form": ReplyForm(),
        "note_form": NoteForm(),
        "transfer_form": _transfer_form(request, interaction),
        "resolve_form": ResolveForm(initial={"category": interaction.category}),
    }
    page_forms.update(bound or {})
    context = {
        "agent": request.agent,
        "interaction": interaction,
        "conversation": conversation_with_deliveries(messages=message_list(interaction=interaction)),
        "reply_route": interaction_reply_route(interaction=interaction),
        "canned_responses": canned_response_list(viewer=viewer, queue_id=interaction.queue_id),
        "actions": _allowed_actions(interaction, request.agent, viewer),
        "panel": console_customer_panel(customer=interaction.customer, viewer=viewer, current=interaction),
        "call": Call.objects.filter(interaction=interaction).first() if interaction.channel == "voice" else None,
        **page_forms,
    }
    return render(request, "console/interaction_detail.html", context, status=status)


@require_GET
@agent_required
def interaction_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_interaction(request, _visible_interaction(request, pk))


def _refused(request: HttpRequest, reason: str) -> HttpResponse:
    return render(request, "console/forbidden.html", {"title": _("Not yours to do"), "reason": reason}, status=403)


def _action(
    request: HttpRequest,
    pk: int,
    *,
    action: InteractionAction,
    perform: Callable[[Interaction, dict[str, Any]], Any],
    done: str,
    form_class: type[forms.Form] | None = None,
    form_name: str = "",
    then: str = "",
) -> HttpResponse:
    """Check, validate, call one service, and answer: redirect with ``done`` on success, the page with errors
    otherwise (404 when the caller may not see the interaction, 403 when they may not do ``action`` on it)."""
    interaction = _visible_interaction(request, pk, page=False)
    refusal = interaction_action_refusal(viewer=viewer_from_request(request), interaction=interaction, action=action)
    if refusal is not None:
        return _refused(request, refusal)
    if form_class is TransferForm:
        form = _transfer_form(request, interaction, request.POST)
    else:
        form = form_class(request.POST, request.FILES) if form_class else None
    bound = {form_name: form} if form is not None else {}
    if form is not None and not form.is_valid():
        return _render_interaction(request, interaction, bound=bound, status=400)
    try:
        perform(interaction, form.cleaned_data if form is not None else {})
    except ValidationError as exc:
        if form is None:
            messages.error(request, " ".join(exc.messages))
        else:
            apply_service_errors(form, exc)
        return _render_interaction(request, interaction, bound=bound, status=400)
    except DomainError as exc:
        messages.error(request, str(exc))
        interaction.refresh_from_db()
        return _render_interaction(request, interaction, bound=bound, status=409)
    messages.success(request, done)
    return redirect(then or reverse("console:interaction", args=[interaction.pk]))


@require_POST
@agent_required
def interaction_accept(request: HttpRequest, pk: int) -> HttpResponse:
    return _action(
        request,
        pk,
        action=InteractionAction.ACCEPT,
        perform=lambda i, _: services.interaction_accept(interaction=i, agent=request.agent, actor=request.user),
        done=_("Accepted: the interaction is yours."),
    )


@require_POST
@agent_required
def interaction_hold(request: HttpRequest, pk: int) -> HttpResponse:
    return _action(
        request,
        pk,
        action=InteractionAction.HOLD,
        perform=lambda i, _: services.interaction_hold(interaction=i, actor=request.user),
        done=_("Put on hold."),
    )


@require_POST
@agent_required
def interaction_resume(request: HttpRequest, pk: int) -> HttpResponse:
    return _action(
        request,
        pk,
        action=InteractionAction.RESUME,
        perform=lambda i, _: services.interaction_resume(interaction=i, actor=request.user),
        done=_("Resumed."),
    )


@require_POST
@agent_required
def interaction_reply(request: HttpRequest, pk: int) -> HttpResponse:
    return _action(
        request,
        pk,
        action=InteractionAction.MESSAGE,
        form_class=ReplyForm,
        form_name="reply_form",
        perform=lambda i, data: services.message_create(
            interaction=i,
            direction=MessageDirection.OUTBOUND,
            body=data["body"],
            author=request.user,
            attachments=reply_attachments_store(data["attachments"]),
        ),
        done=_("Reply sent."),
    )


@require_POST
@agent_required
def interaction_note(request: HttpRequest, pk: int) -> HttpResponse:
    return _action(
        request,
        pk,
        action=InteractionAction.MESSAGE,
        form_class=NoteForm,
        form_name="note_form",
        perform=lambda i, data: services.message_create(
            interaction=i, direction=MessageDirection.INTERNAL, body=data["body"], author=request.user
        ),
        done=_("Internal note added."),
    )


@require_POST
@agent_required
def interaction_transfer(request: HttpRequest, pk: int) -> HttpResponse:
    def perform(interaction: Interaction, data: dict[str, Any]) -> Interaction:
        return services.interaction_transfer(
            interaction=interaction,
            actor=request.user,
            to_queue=data["queue"],
            to_agent=data["agent"],
            note=data["note"],
        )

    # the work leaves the agent, who may no longer see it: back to their list
    return _action(
        request,
        pk,
        action=InteractionAction.TRANSFER,
        form_class=TransferForm,
        form_name="transfer_form",
        perform=perform,
        done=_("Interaction %(number)s transferred.") % {"number": pk},
        then=reverse("console:home"),
    )


@require_POST
@agent_required
def interaction_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    return _action(
        request,
        pk,
        action=InteractionAction.RESOLVE,
        form_class=ResolveForm,
        form_name="resolve_form",
        perform=lambda i, data: services.interaction_resolve(
            interaction=i, actor=request.user, disposition=data["disposition"], category=data["category"]
        ),
        done=_("Resolved."),
    )
