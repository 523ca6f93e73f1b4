"""The landing dashboard at /admin/ follows the floor without reloading: its "waiting" figure rises when work is
queued and falls when the work is answered, pushed over the wallboard's socket (no meta refresh, no polling)."""

import httpx
import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from playwright.sync_api import expect

from agents.choices import AgentStatus
from agents.services import agent_set_status
from crm.access.services.api_keys import api_key_create
from crm.choices import InteractionStatus
from crm.interactions.models import Interaction
from tests.agents.factories import AgentFactory, TeamFactory, UserFactory
from tests.browser.pages import sign_in, wait_live
from tests.contacts.factories import CustomerFactory
from tests.crm.factories import QueueFactory
from tests.crm.groups import default_groups

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators"),
]


def test_the_waiting_figure_follows_work_queued_and_answered(asgi_live_server, asgi_context_factory, eager_celery):
    default_groups()
    team = TeamFactory(name="Support")
    queue = QueueFactory(name="Support chat", team=team, channels=["chat"])
    agent = AgentFactory(
        user=UserFactory(username="ana"), name="Ana Agent", team=team, capacity={"chat": 1},
        status=AgentStatus.OFFLINE, status_changed_at=timezone.now(),
    )  # fmt: skip
    supervisor = UserFactory(username="sam", is_staff=True)
    supervisor.groups.add(Group.objects.get(name="Supervisor"))
    team.supervisors.add(supervisor)
    customer = CustomerFactory(name="Carla Customer")
    _, raw_key = api_key_create(name="chat platform", scopes=["read", "write"])

    page = asgi_context_factory().new_page()
    sign_in(page, "sam")
    page.goto("/admin/")
    wait_live(page)
    assert page.locator("meta[http-equiv=refresh]").count() == 0
    page.evaluate("() => { window.stillThisPage = true; }")
    waiting = page.locator('[data-figure="waiting"] .figure-value')
    queue_waiting = page.locator(f'tr[data-queue-id="{queue.pk}"] td.waiting')
    expect(waiting).to_have_text("0")

    with httpx.Client(base_url=asgi_live_server, headers={"Authorization": f"Bearer {raw_key}"}, timeout=15) as api:
        response = api.post(
            "/api/v1/interactions/",
            json={"channel": "chat", "customer": customer.pk, "queue": queue.pk, "subject": "Help", "body": "Help"},
        )
    assert response.status_code == 201, response.text

    expect(waiting).to_have_text("1")  # nobody is available: it waits
    expect(queue_waiting).to_have_text("1")
    expect(page.locator('tr[data-status="offline"] td')).to_have_text("1")

    agent_set_status(agent=agent, status=AgentStatus.AVAILABLE)  # she signs in; the router hands her the work

    expect(waiting).to_have_text("0")
    expect(queue_waiting).to_have_text("0")
    assert Interaction.objects.get(pk=response.json()["id"]).status == InteractionStatus.ASSIGNED
    assert page.evaluate("() => window.stillThisPage === true")  # updated in place: the page never reloaded
