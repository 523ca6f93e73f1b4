"""The admin's index and sidebar are grouped by the supervisor's jobs: Live screens first, then work, people,
quality, set-up and records; a supervisor sees no group or entry of what only administrators may touch."""

import pytest
from django.test import Client

from tests.agents.factories import TeamFactory, UserFactory
from tests.crm.groups import default_groups

pytestmark = pytest.mark.django_db


def _sections(user) -> dict[str, list[str]]:
    client = Client()
    client.force_login(user)
    response = client.get("/admin/")
    assert response.status_code == 200
    return {app["name"]: [m["name"] for m in app["models"]] for app in response.context["app_list"]}


def test_an_administrator_gets_every_job_in_order_with_the_live_screens_first():
    default_groups()
    sections = _sections(UserFactory(username="root", is_staff=True, is_superuser=True))

    assert list(sections) == ["Live", "Work", "People", "Quality", "Setup", "Records", "Administration"]
    assert sections["Live"] == ["Agent board", "Wallboard", "Reports"]
    assert sections["People"][:2] == ["Agents", "Teams"]
    assert {"Queues", "Inboxes", "Webhooks", "API keys"} <= set(sections["Setup"])
    assert "Agent status logs" in sections["Records"]


def test_a_supervisor_sees_their_jobs_without_the_administrators_models():
    from django.contrib.auth.models import Group

    default_groups()
    supervisor = UserFactory(username="sup", is_staff=True)
    supervisor.groups.add(Group.objects.get(name="Supervisor"))
    TeamFactory().supervisors.add(supervisor)

    sections = _sections(supervisor)

    assert "Administration" not in sections and "Live" in sections
    setup = set(sections.get("Setup", []))
    assert "Queues" in setup and not {"Webhooks", "API keys"} & setup
    assert "Dead letters" not in sections.get("Records", [])
