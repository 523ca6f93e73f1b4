"""The agent console: server-rendered pages and htmx fragments. Each action is one form POST calling one service.

A move the current state does not allow (``DomainError``) comes back as the page with the service's message
(409); input the form refuses comes back with the field errors (400). Nothing here decides what is allowed.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from agents.access import Viewer, viewer_from_request
from agents.choices import AgentStatus
from agents.models import Agent, BreakType
from agents.selectors import agent_break_state, agent_training_status
from agents.services import agent_set_status
from config.errors import DomainError

from ..choices import InteractionStatus, MessageDirection
from ..forms import (
    AGENT_SELECTABLE_STATUSES,
    NoteForm,
    ReplyForm,
    ResolveForm,
    StatusForm,
    TransferForm,
    apply_service_errors,
)
from ..models import Interaction
from ..selectors.canned_responses import canned_response_list
from ..selectors.console import console_capacity, console_customer_panel, console_my_work, console_queues
from ..selectors.interactions import (
    interaction_assignable_agents,
    interaction_get,
    interaction_target_queues,
    message_list,
)
from ..selectors.reviews import agent_qa_scores, agent_reviews
from ..services import lifecycle
from ..services.messages import CLOSED_TO_MESSAGES, message_create

S = InteractionStatus


def agent_required(view: Callable) -> Callable:
    """Signed in (else the login page) and an agent (else a 403 page saying so); sets ``request.agent``.

    An htmx fragment request after the session ended gets the whole page sent to the login (``HX-Redirect``),
    instead of the login form drawn inside the fragment's box.
    """

    signed_in_view = login_required(view)

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            if request.htmx:
                page = request.htmx.current_url_abs_path or reverse("console:home")
                return HttpResponseClientRedirect(f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': page})}")
            return signed_in_view(request, *args, **kwargs)
        agent = Agent.objects.filter(user=request.user).select_related("team").first()
        if agent is None:
            return render(
                request,
                "console/forbidden.html",
                {
                    "title": "No agent profile",
                    "reason": "The agent console is for agents, and your account has no agent profile. "
                    "Ask a supervisor to create one for you.",
                },
                status=403,
            )
        request.agent = agent
        return view(request, *args, **kwargs)

    return wrapper


# --- the console home: status, my work, queues ------------------------------------------------------


def _home_context(request: HttpRequest, *, status_form: StatusForm | None = None) -> dict[str, Any]:
    agent = request.agent
    return {
        "agent": agent,
        "status_form": status_form or StatusForm(initial={"status": agent.status}),
        "selectable_statuses": AGENT_SELECTABLE_STATUSES,
        "status_set_by_system": agent.status not in AGENT_SELECTABLE_STATUSES,
        "capacity": console_capacity(agent=agent),
        "work": console_my_work(agent=agent),
        "queues": console_queues(agent=agent),
        **_break_context(agent),
        **_training_context(agent),
        "reviews": agent_reviews(agent=agent),
        "qa_score": agent_qa_scores(agent_ids=[agent.pk]).get(agent.pk),
    }


def _break_context(agent: Agent) -> dict[str, Any]:
    """What ``console/_break.html`` draws (its header comment says what it needs)."""
    return {
        "break_state": agent_break_state(agent=agent),
        "break_types": BreakType.objects.filter(is_active=True).order_by("name"),
    }


def _training_context(agent: Agent) -> dict[str, Any]:
    return {"training_rows": agent_training_status(agent=agent)}


@require_GET
@agent_required
def console_home(request: HttpRequest) -> HttpResponse:
    return render(request, "console/home.html", _home_context(request))


@require_POST
@agent_required
def console_set_status(request: HttpRequest) -> HttpResponse:
    form = StatusForm(request.POST)
    if form.is_valid():
        try:
            agent_set_status(agent=request.agent, status=form.cleaned_data["status"], actor=request.user)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        except DomainError as exc:
            messages.error(request, str(exc))
            return render(request, "console/home.html", _home_context(request, status_form=form), status=409)
        else:
            messages.success(request, f"You are now {AgentStatus(request.agent.status).label.lower()}.")
            return redirect("console:home")
    return render(request, "console/home.html", _home_context(request, status_form=form), status=400)


@require_GET
@agent_required
def console_my_work_fragment(request: HttpRequest) -> HttpResponse:
    """The "my work" list and capacity, re-fetched by the live client when the agent's work changes."""
    agent = request.agent
    return render(
        request,
        "console/_my_work.html",
        {"agent": agent, "work": console_my_work(agent=agent), "capacity": console_capacity(agent=agent)},
    )


@require_GET
@agent_required
def console_queues_fragment(request: HttpRequest) -> HttpResponse:
    return render(request, "console/_queues.html", {"queues": console_queues(agent=request.agent)})


@require_GET
@agent_required
def console_break_fragment(request: HttpRequest) -> HttpResponse:
    """The break panel, re-fetched after a break button's API call and on the live break events."""
    return render(request, "console/_break.html", _break_context(request.agent))


@require_GET
@agent_required
def console_training_fragment(request: HttpRequest) -> HttpResponse:
    """The training panel, re-fetched on the live training events."""
    return render(request, "console/_training.html", _training_context(request.agent))


# --- one interaction ---------------------------------------------------------------------------------


def _visible_interaction(request: HttpRequest, pk: int) -> Interaction:
    """The interaction if the caller may see it; 404 otherwise, exactly as if it did not exist."""
    try:
        interaction = interaction_get(viewer=viewer_from_request(request), pk=pk)
    except Interaction.DoesNotExist:
        raise Http404("No such interaction.") from None
    return Interaction.objects.select_related("customer__organization", "queue", "agent").get(pk=interaction.pk)


def _transfer_form(request: HttpRequest, interaction: Interaction, data=None) -> TransferForm:
    viewer = viewer_from_request(request)
    queues = interaction_target_queues(viewer=viewer).filter(is_active=True, channels__contains=[interaction.channel])
    agents = interaction_assignable_agents(viewer=viewer)
    if interaction.agent_id is not None:
        agents = agents.exclude(pk=interaction.agent_id)
    return TransferForm(data, queues=queues.order_by("name"), agents=agents.order_by("name"))


def _allowed_actions(interaction: Interaction, agent: Agent, viewer: Viewer) -> set[str]:
    """Which buttons to offer; the services still decide, so a stale page gets their message, not a crash.

    A plain agent may read the work waiting in their team's queues but acts only on their own.
    """
    if viewer.is_agent_only and interaction.agent_id != agent.pk:
        return set()
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
    if status in lifecycle.TRANSFER_FROM:
        actions.add("transfer")
    if status not in CLOSED_TO_MESSAGES:
        actions |= {"reply", "note"}
    return actions


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
        "conversation": message_list(interaction=interaction),
        "canned_responses": canned_response_list(viewer=viewer, queue_id=interaction.queue_id),
        "actions": _allowed_actions(interaction, request.agent, viewer),
        "panel": console_customer_panel(customer=interaction.customer, viewer=viewer, current=interaction),
        **page_forms,
    }
    return render(request, "console/interaction_detail.html", context, status=status)


@require_GET
@agent_required
def interaction_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_interaction(request, _visible_interaction(request, pk))


def _action(
    request: HttpRequest,
    pk: int,
    *,
    perform: Callable[[Interaction, dict[str, Any]], Any],
    done: str,
    form_class: type[forms.Form] | None = None,
    form_name: str = "",
    then: str = "",
) -> HttpResponse:
    """Validate, call one service, and answer: redirect with ``done`` on success, the page with errors otherwise."""
    interaction = _visible_interaction(request, pk)
    if form_class is TransferForm:
        form = _transfer_form(request, interaction, request.POST)
    else:
        form = form_class(request.POST) if form_class else None
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
        perform=lambda i, _: lifecycle.interaction_accept(interaction=i, agent=request.agent, actor=request.user),
        done="Accepted: the interaction is yours.",
    )


@require_POST
@agent_required
def interaction_hold(request: HttpRequest, pk: int) -> HttpResponse:
    return _action(
        request,
        pk,
        perform=lambda i, _: lifecycle.interaction_hold(interaction=i, actor=request.user),
        done="Put on hold.",
    )


@require_POST
@agent_required
def interaction_resume(request: HttpRequest, pk: int) -> HttpResponse:
    return _action(
        request,
        pk,
        perform=lambda i, _: lifecycle.interaction_resume(interaction=i, actor=request.user),
        done="Resumed.",
    )


@require_POST
@agent_required
def interaction_reply(request: HttpRequest, pk: int) -> HttpResponse:
    return _action(
        request,
        pk,
        form_class=ReplyForm,
        form_name="reply_form",
        perform=lambda i, data: message_create(
            interaction=i, direction=MessageDirection.OUTBOUND, body=data["body"], author=request.user
        ),
        done="Reply sent.",
    )


@require_POST
@agent_required
def interaction_note(request: HttpRequest, pk: int) -> HttpResponse:
    return _action(
        request,
        pk,
        form_class=NoteForm,
        form_name="note_form",
        perform=lambda i, data: message_create(
            interaction=i, direction=MessageDirection.INTERNAL, body=data["body"], author=request.user
        ),
        done="Internal note added.",
    )


@require_POST
@agent_required
def interaction_transfer(request: HttpRequest, pk: int) -> HttpResponse:
    def perform(interaction: Interaction, data: dict[str, Any]) -> Interaction:
        return lifecycle.interaction_transfer(
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
        form_class=TransferForm,
        form_name="transfer_form",
        perform=perform,
        done=f"Interaction {pk} transferred.",
        then=reverse("console:home"),
    )


@require_POST
@agent_required
def interaction_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    return _action(
        request,
        pk,
        form_class=ResolveForm,
        form_name="resolve_form",
        perform=lambda i, data: lifecycle.interaction_resolve(
            interaction=i, actor=request.user, disposition=data["disposition"], category=data["category"]
        ),
        done="Resolved.",
    )
