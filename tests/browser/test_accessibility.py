"""Accessibility of the screens people live in all day: axe-core finds nothing serious or critical on the agent
console, the agent board and the landing dashboard, and the console can be worked from the keyboard alone."""

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from agents.choices import AgentStatus
from crm.choices import InteractionStatus
from tests.agents.factories import AgentFactory, TeamFactory, UserFactory
from tests.browser.axe import assert_no_serious_violations
from tests.browser.pages import sign_in, wait_live
from tests.contacts.factories import CustomerFactory
from tests.crm.factories import QueueFactory, interaction_in_status
from tests.crm.groups import default_groups

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators"),
]


@pytest.fixture
def floor(transactional_db):
    default_groups()
    team = TeamFactory(name="Support")
    queue = QueueFactory(name="Support chat", team=team, channels=["chat"])
    agent = AgentFactory(
        user=UserFactory(username="ana"), name="Ana Agent", team=team, capacity={"chat": 2},
        status=AgentStatus.AVAILABLE, status_changed_at=timezone.now(),
    )  # fmt: skip
    supervisor = UserFactory(username="sam", is_staff=True)
    supervisor.groups.add(Group.objects.get(name="Supervisor"))
    team.supervisors.add(supervisor)
    customer = CustomerFactory(name="Carla Customer")
    interaction_in_status(InteractionStatus.RESOLVED, agent=agent, queue=queue, customer=customer, subject="Old one")
    offered = interaction_in_status(
        InteractionStatus.ASSIGNED, agent=agent, queue=queue, customer=customer, subject="Router down"
    )
    return {"team": team, "queue": queue, "agent": agent, "offered": offered}


@pytest.mark.parametrize(
    ("username", "path"),
    [("ana", "/console/"), ("sam", "/admin/agents/agent/board/"), ("sam", "/admin/")],
    ids=["console", "agent-board", "dashboard"],
)
def test_axe_finds_nothing_serious(asgi_context_factory, floor, username, path):
    page = asgi_context_factory().new_page()
    sign_in(page, username)
    page.goto(path)
    wait_live(page)

    assert_no_serious_violations(page)


def test_axe_finds_nothing_serious_on_the_dashboard_in_dark_mode(browser, asgi_live_server, floor):
    context = browser.new_context(base_url=asgi_live_server, color_scheme="dark")
    page = context.new_page()
    sign_in(page, "sam")
    page.goto("/admin/")
    wait_live(page)

    assert_no_serious_violations(page)
    context.close()


def test_axe_finds_nothing_serious_on_the_interaction_page(asgi_context_factory, floor):
    page = asgi_context_factory().new_page()
    sign_in(page, "ana")
    page.goto(f"/console/interactions/{floor['offered'].pk}/")

    assert_no_serious_violations(page)


def _tab_to(page, description: str, matches: str, limit: int = 80) -> None:
    """Press Tab until the focused element satisfies ``matches`` (a JS predicate on ``el``); fail after ``limit``."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"() => {{ const el = document.activeElement; return !!el && ({matches}); }}"):
            return
    pytest.fail(f"{description} cannot be reached with the Tab key")


def test_an_agent_accepts_and_replies_with_the_keyboard_alone(asgi_context_factory, floor):
    offered = floor["offered"]
    page = asgi_context_factory().new_page()
    sign_in(page, "ana")
    page.goto("/console/")
    wait_live(page)

    _tab_to(page, "the Accept button", f"el.tagName === 'BUTTON' && el.textContent.trim() === 'Accept #{offered.pk}'")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/console/interactions/{offered.pk}/")
    page.get_by_text("Accepted: the interaction is yours.").wait_for()

    _tab_to(page, "the reply box", "el.tagName === 'TEXTAREA' && el.labels.length && "
            "el.labels[0].textContent.includes('Reply to the customer')")  # fmt: skip
    page.keyboard.type("On its way, from the keyboard.")
    _tab_to(page, "the Send reply button", "el.tagName === 'BUTTON' && el.textContent.trim() === 'Send reply'")
    page.keyboard.press("Enter")

    page.get_by_text("Reply sent.").wait_for()
    assert "On its way, from the keyboard." in page.get_by_role("list", name="Messages").inner_text()
    offered.refresh_from_db()
    assert offered.status == InteractionStatus.ACTIVE
