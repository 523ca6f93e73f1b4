"""The agent board is live: a status change, a break and new work appear without reloading the page, pushed over
the wallboard's socket (no meta refresh, no polling)."""

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from agents.choices import AgentStatus
from agents.services import agent_set_status
from tests.agents.factories import AgentFactory, TeamFactory, UserFactory
from tests.browser.pages import sign_in, wait_live
from tests.crm.groups import default_groups

pytestmark = pytest.mark.browser


def test_the_board_follows_the_floor_without_reloading(browser, asgi_live_server):
    default_groups()
    team = TeamFactory(name="Blue")
    supervisor = UserFactory(username="sup.blue", is_staff=True)
    supervisor.groups.add(Group.objects.get(name="Supervisor"))
    team.supervisors.add(supervisor)
    ada = AgentFactory(name="Ada", team=team, status=AgentStatus.OFFLINE, status_changed_at=timezone.now())
    context = browser.new_context(base_url=asgi_live_server)
    page = context.new_page()
    sign_in(page, "sup.blue")
    page.goto("/admin/agents/agent/board/")
    wait_live(page)
    assert page.locator("meta[http-equiv=refresh]").count() == 0
    page.evaluate("() => { window.stillThisPage = true; }")
    row = page.locator(f"tr[data-agent='{ada.pk}']")
    assert "Offline" in row.inner_text()

    agent_set_status(agent=ada, status=AgentStatus.AVAILABLE)  # she signs in to her console elsewhere

    page.wait_for_function(
        f"() => document.querySelector(\"tr[data-agent='{ada.pk}']\").className === 'status-available'"
    )
    assert "Available" in row.inner_text()
    assert page.evaluate("() => window.stillThisPage === true")  # updated in place: the page never reloaded
    context.close()
