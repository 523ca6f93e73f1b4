"""The agent console: the home page (status, my work, queues, breaks, training, reviews) and its htmx fragments.

One interaction's page and its actions are in ``interaction``; both use ``agent_required``.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from agents.choices import AgentStatus
from agents.models import Agent, BreakType
from agents.selectors import agent_break_state, agent_training_status
from agents.services import agent_set_status
from config.errors import DomainError
from crm.quality.selectors import agent_qa_scores, agent_reviews

from ..forms import StatusForm, agent_selectable_statuses, apply_service_errors
from ..selectors import console_capacity, console_my_work, console_queues, console_status_set_by_system


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
            if request.user.is_staff:  # a supervisor or administrator who followed a link to the console
                title, reason = (
                    _("The console is for agents"),
                    _(
                        "Your account supervises rather than answers: the live wallboard, the agent board and the "
                        "reports are your screens."
                    ),
                )
            else:
                title, reason = (
                    _("No agent profile"),
                    _(
                        "The agent console is for agents, and your account has no agent profile. "
                        "Ask a supervisor to create one for you."
                    ),
                )
            return render(
                request,
                "console/forbidden.html",
                {"title": title, "reason": reason, "supervisor_links": request.user.is_staff},
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
        "selectable_statuses": agent_selectable_statuses(agent=agent),
        "status_set_by_system": console_status_set_by_system(agent=agent),
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
            messages.success(
                request, _("You are now %(status)s.") % {"status": AgentStatus(request.agent.status).label.lower()}
            )
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
