"""A supervisor sends an agent on break from the admin's live agent board; the agent's open console shows it
live (status badge and break timer) without a reload, and "I'm back" makes them available again (issue 6).
A break planned later appears live too, and the API's refusal to start it shows in plain words."""

import importlib
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.utils import timezone
from playwright.sync_api import expect

from agents.breaks import break_request, break_send_now, break_type_get
from agents.choices import AgentStatus, BreakKind
from agents.models import Agent, Break, BreakDueNotice
from agents.services import agent_set_status
from agents.signals import break_due
from crm.interactions import services as lifecycle
from crm.sla.services.policies import TargetSpec, sla_policy_create
from crm.sla.services.sweep import sla_sweep
from tests.agents.factories import AgentFactory, BreakPolicyFactory, TeamFactory, UserFactory
from tests.browser.pages import sign_in
from tests.contacts.factories import CustomerFactory
from tests.crm.factories import QueueFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    # WhiteNoise serves static files with a synchronous iterator, which Django's ASGI handler warns about
    pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators"),
]

# the break timer's text: the whole seconds left, counting down locally
WHOLE_SECONDS = re.compile(r"^\d+$")

default_groups = importlib.import_module("crm.migrations.0002_default_groups")
supervision = importlib.import_module("crm.migrations.0007_supervision_permissions_and_scorecard")


@pytest.fixture
def floor(transactional_db):
    # the groups the migrations made; again, since the transactional tests' flush removed them
    default_groups.create_groups(apps, None)
    supervision.forwards(apps, None)
    team = TeamFactory(name="Support")
    agent = AgentFactory(user=UserFactory(username="ana"), name="Ana Agent", team=team)
    agent_set_status(agent=agent, status=AgentStatus.AVAILABLE)
    supervisor = UserFactory(username="sam", is_staff=True)
    supervisor.groups.add(Group.objects.get(name="Supervisor"))
    team.supervisors.add(supervisor)
    policy = sla_policy_create(
        name="Chat 60 s",
        default_target=TargetSpec(
            channel="", priority=None, first_response_seconds=60, next_response_seconds=None, resolution_seconds=None
        ),
        escalation_steps=[],
    )
    queue = QueueFactory(name="Support chat", team=team, channels=["chat"], sla_policy=policy)
    colleague = AgentFactory(name="Bo Agent", team=team)
    agent_set_status(agent=colleague, status=AgentStatus.AVAILABLE)
    return {"agent": agent, "colleague": colleague, "queue": queue}


def test_supervisor_sends_agent_on_break_and_the_console_follows_live(asgi_live_server, asgi_context_factory, floor):
    agent = floor["agent"]

    # The agent's console is open and live.
    console = asgi_context_factory().new_page()
    sign_in(console, "ana")
    expect(console).to_have_url(f"{asgi_live_server}/console/")
    expect(console.locator("#my-status")).to_have_text("Available")
    console.wait_for_function("() => window.SwitchboardLive && window.SwitchboardLive.connection.snapshots > 0")
    console.evaluate("() => { window.notReloaded = true; }")

    # The supervisor watches the wallboard and sends her on a break from the admin's agent board.
    supervisor = asgi_context_factory()
    wallboard = supervisor.new_page()
    sign_in(wallboard, "sam")
    wallboard.goto("/wallboard/")
    wallboard.wait_for_function("() => window.SwitchboardLive && window.SwitchboardLive.connection.snapshots > 0")
    board = supervisor.new_page()
    board.goto("/admin/agents/agent/board/")
    row = board.locator(f'tr[data-agent="{agent.pk}"]')
    row.get_by_role("button", name="Send on break now").click()
    expect(board.get_by_text("Ana Agent: done.")).to_be_visible()

    # The console shows it without a reload: the badge, and the break panel with its timer and "I'm back".
    expect(console.locator("#my-status")).to_have_text("On break")
    expect(console.locator("#sb-break .sb-break-timer")).to_be_visible()
    expect(console.locator("#sb-break .sb-break-timer")).to_have_text(WHOLE_SECONDS)
    assert console.evaluate("() => window.notReloaded") is True
    # the wallboard too: her status and the on-break marker
    wallboard_row = wallboard.locator(f'#wallboard-agents tr[data-agent-id="{agent.pk}"]')
    expect(wallboard_row.locator(".status")).to_have_text("On break")
    expect(wallboard_row.locator(".break-marker")).to_contain_text("Well-being")

    # She comes back from the console: the API call ends the break and the status follows.
    console.locator("#sb-break").get_by_role("button", name="I'm back").click()
    expect(console.locator("#my-status")).to_have_text("Available")
    expect(console.locator("#sb-break .sb-break-request")).to_be_visible()
    expect(console.locator("#break-panel-error")).to_be_hidden()
    expect(wallboard_row.locator(".break-marker")).to_have_count(0)
    assert Agent.objects.get(pk=agent.pk).status == AgentStatus.AVAILABLE
    assert Break.objects.get(agent=agent).ended_by.username == "ana"

    # A well-being break falls due (as the policy sweep records and announces it): the prompt appears live.
    notice = BreakDueNotice.objects.create(
        agent=agent, reason="continuous_handling", since=timezone.now(), due_at=timezone.now(), minutes=10,
        detail="125 minutes of handling without a break",
    )  # fmt: skip
    break_due.send_robust(sender=Agent, agent=agent, notice=notice)
    expect(console.locator(".sb-break-due")).to_contain_text("125 minutes of handling")

    # A break planned for her appears live; taking it while the team's cap is reached shows the API's refusal.
    BreakPolicyFactory(team=agent.team, max_on_break_share=Decimal("0.5"))
    break_send_now(agent=floor["colleague"], actor=None, enforce_cap=False)
    break_request(agent=agent, break_type=break_type_get(code=BreakKind.LUNCH), actor=None, approved=True)
    console.locator("#sb-break").get_by_role("button", name="Take it now").click()
    expect(console.locator("#break-panel-error")).to_contain_text("on break already")
    expect(console.locator("#my-status")).to_have_text("Available")

    # An SLA breach in her team's queue counts on the wallboard at once.
    queue_row = wallboard.locator(f'tr[data-queue-id="{floor["queue"].pk}"]')
    expect(queue_row.locator(".breaches")).to_have_text("0")
    lifecycle.interaction_create_inbound(channel="chat", customer=CustomerFactory(), queue=floor["queue"])
    sla_sweep(now=timezone.now() + timedelta(hours=1))
    expect(queue_row.locator(".breaches")).to_have_text("1")
