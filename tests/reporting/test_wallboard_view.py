"""The supervisor wallboard page: who may see it, and what it shows them."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from agents.breaks import break_send_now
from agents.choices import AgentStatus
from agents.services import agent_set_status
from crm.choices import InteractionStatus
from crm.interactions import services as lifecycle
from crm.interactions.models import Interaction
from crm.sla.services.policies import TargetSpec, sla_policy_create
from crm.sla.services.sweep import sla_sweep
from tests.agents.factories import AdministratorFactory, AgentFactory, TeamFactory, UserFactory
from tests.crm.factories import InteractionFactory, QueueFactory, interaction_in_status

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


def test_administrators_see_every_queue_waiting_and_every_agent_by_status():
    red, blue = TeamFactory(name="Red"), TeamFactory(name="Blue")
    red_queue = QueueFactory(name="Red chat", team=red)
    QueueFactory(name="Blue voice", team=blue)
    InteractionFactory(queue=red_queue)
    InteractionFactory(queue=red_queue)
    ana = AgentFactory(name="Ana", team=red)
    agent_set_status(agent=ana, status=AgentStatus.AVAILABLE)
    AgentFactory(name="Bo", team=blue)

    page = _client(AdministratorFactory(username="boss")).get("/wallboard/").content.decode()

    assert "Red chat" in page and "Blue voice" in page
    assert '<td class="waiting">2</td>' in page
    assert '<span class="count">1</span> <span class="label">Available</span>' in page
    assert '<span class="count">1</span> <span class="label">Offline</span>' in page
    assert "Ana" in page and "Bo" in page


def test_a_staff_user_who_supervises_no_team_gets_a_403_page_and_no_figures():
    QueueFactory(name="Red chat", team=TeamFactory(name="Red"))
    AgentFactory(name="Ana Red")

    response = _client(UserFactory(username="staff", is_staff=True)).get("/wallboard/")

    page = response.content.decode()
    assert response.status_code == 403
    assert "The wallboard is for supervisors" in page
    assert "Red chat" not in page and "Ana Red" not in page


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


def test_wallboard_shows_service_level_today_and_breaches_of_the_last_hour():
    policy = sla_policy_create(
        name="Chat 60 s",
        default_target=TargetSpec(
            channel="", priority=None, first_response_seconds=60, next_response_seconds=None, resolution_seconds=None
        ),
        escalation_steps=[],
    )
    queue = QueueFactory(name="Red chat", channels=["chat"], sla_policy=policy, service_level_seconds=20)
    answered = interaction_in_status(InteractionStatus.ACTIVE, queue=queue)  # answered at once: in time
    late = interaction_in_status(InteractionStatus.ASSIGNED, queue=queue)
    Interaction.objects.filter(pk=late.pk).update(queued_at=timezone.now() - timedelta(minutes=5))
    lifecycle.interaction_accept(interaction=late)
    sla_sweep(now=timezone.now() + timedelta(minutes=2))  # both first responses overdue: two breaches

    page = _client(AdministratorFactory(username="boss")).get("/wallboard/").content.decode()

    assert answered.pk and '<td class="service-level">50 %</td>' in page
    assert '<td class="breaches breaching">2</td>' in page


def test_wallboard_marks_agents_on_break_with_their_time_in_status():
    ana, bo = AgentFactory(name="Ana"), AgentFactory(name="Bo")
    agent_set_status(agent=bo, status=AgentStatus.AVAILABLE)
    break_send_now(agent=ana, actor=None, minutes=15)

    page = _client(AdministratorFactory(username="boss")).get("/wallboard/").content.decode()

    ana_row = page.split(f'data-agent-id="{ana.pk}"', 1)[1].split("</tr>", 1)[0]
    bo_row = page.split(f'data-agent-id="{bo.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "break-marker" in ana_row and "Well-being" in ana_row and "until" in ana_row
    assert "break-marker" not in bo_row
    assert 'class="in-status" data-since="' in ana_row and "0:0" in ana_row  # just now
    assert '<span class="count">1</span> <span class="label">On break</span>' in page
