"""Fixtures of the agents tests: people in teams, and API clients acting as them."""

import pytest
from rest_framework.test import APIClient

from tests.agents.factories import AgentFactory, TeamFactory, UserFactory


@pytest.fixture
def session_client():
    """A client logged in as ``user`` (the console and supervisors use sessions, not keys)."""

    def make(user):
        client = APIClient()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def team_a(db):
    return TeamFactory(name="Team A")


@pytest.fixture
def team_b(db):
    return TeamFactory(name="Team B")


@pytest.fixture
def agent_a(team_a):
    return AgentFactory(team=team_a, name="Alice A", user__username="alice")


@pytest.fixture
def agent_b(team_b):
    return AgentFactory(team=team_b, name="Bob B", user__username="bob")


@pytest.fixture
def supervisor_a(team_a):
    user = UserFactory(username="sup-a")
    team_a.supervisors.add(user)
    return user
