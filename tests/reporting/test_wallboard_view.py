"""The supervisor wallboard page: who may see it, and what it shows them."""

import pytest
from django.test import Client

from agents.choices import AgentStatus
from agents.services import agent_set_status
from tests.agents.factories import AgentFactory, TeamFactory, UserFactory
from tests.crm.factories import InteractionFactory, QueueFactory

pytestmark = pytest.mark.django_db


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def test_anonymous_visitor_is_sent_to_sign_in():
    response = Client().get("/wallboard/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/wallboard/")


def test_a_plain_agent_gets_a_403_page_saying_why():
    agent = AgentFactory()

    response = _client(agent.user).get("/wallboard/")

    assert response.status_code == 403
    assert "The wallboard is for supervisors" in response.content.decode()


def test_staff_see_every_queue_waiting_and_every_agent_by_status():
    red, blue = TeamFactory(name="Red"), TeamFactory(name="Blue")
    red_queue = QueueFactory(name="Red chat", team=red)
    QueueFactory(name="Blue voice", team=blue)
    InteractionFactory(queue=red_queue)
    InteractionFactory(queue=red_queue)
    ana = AgentFactory(name="Ana", team=red)
    agent_set_status(agent=ana, status=AgentStatus.AVAILABLE)
    AgentFactory(name="Bo", team=blue)

    page = _client(UserFactory(username="boss", is_staff=True)).get("/wallboard/").content.decode()

    assert "Red chat" in page and "Blue voice" in page
    assert '<td class="waiting">2</td>' in page
    assert '<span class="count">1</span> <span class="label">Available</span>' in page
    assert '<span class="count">1</span> <span class="label">Offline</span>' in page
    assert "Ana" in page and "Bo" in page


def test_a_team_supervisor_sees_only_their_teams_queues_and_agents():
    supervisor = UserFactory(username="lead")
    red, blue = TeamFactory(name="Red"), TeamFactory(name="Blue")
    red.supervisors.add(supervisor)
    QueueFactory(name="Red chat", team=red)
    QueueFactory(name="Blue voice", team=blue)
    AgentFactory(name="Ana Red", team=red)
    AgentFactory(name="Bo Blue", team=blue)

    response = _client(supervisor).get("/wallboard/")

    page = response.content.decode()
    assert response.status_code == 200
    assert "Red chat" in page and "Ana Red" in page
    assert "Blue voice" not in page and "Bo Blue" not in page
