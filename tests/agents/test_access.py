"""Who sees what: agents.access.viewer_for / viewer_from_request."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory

from agents.access import NOBODY, viewer_for, viewer_from_request
from crm.access.services.api_keys import api_key_create
from tests.agents.factories import AgentFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_key_without_team_sees_everything():
    key, _ = api_key_create(name="integrator", scopes=["read"])
    viewer = viewer_for(api_key=key)
    assert viewer.unrestricted and viewer.api_key_id == key.pk and not viewer.is_agent_only


def test_team_bound_key_sees_only_its_team():
    team = TeamFactory()
    key, _ = api_key_create(name="team key", scopes=["read"], team=team)
    viewer = viewer_for(api_key=key, user=UserFactory(is_staff=True))
    # the key decides, not whoever else might be on the request
    assert (viewer.unrestricted, viewer.team_ids, viewer.is_agent_only) == (False, frozenset({team.pk}), False)


def test_staff_user_is_unrestricted_and_keeps_their_agent_id():
    agent = AgentFactory(user__is_staff=True)
    viewer = viewer_for(user=agent.user)
    assert viewer.unrestricted and viewer.agent_id == agent.pk


def test_supervisor_sees_the_teams_they_supervise():
    team_1, team_2, other = TeamFactory.create_batch(3)
    user = UserFactory()
    team_1.supervisors.add(user)
    team_2.supervisors.add(user)
    own = AgentFactory(user=user, team=other)
    viewer = viewer_for(user=user)
    assert viewer.is_supervisor and not viewer.is_agent_only
    assert viewer.team_ids == frozenset({team_1.pk, team_2.pk})
    assert viewer.agent_id == own.pk


def test_plain_agent_sees_their_team_and_themselves_only():
    agent = AgentFactory()
    viewer = viewer_for(user=agent.user)
    assert viewer.is_agent_only and viewer.agent_id == agent.pk and viewer.team_ids == frozenset({agent.team_id})


def test_agent_without_team_has_no_team():
    agent = AgentFactory(team=None)
    assert viewer_for(user=agent.user).team_ids == frozenset()


def test_user_who_is_neither_agent_nor_supervisor_sees_nothing_team_bound():
    viewer = viewer_for(user=UserFactory())
    assert not viewer.unrestricted and viewer.team_ids == frozenset() and viewer.agent_id is None


def test_anonymous_is_nobody():
    assert viewer_for(user=AnonymousUser()) == NOBODY
    assert viewer_for() == NOBODY


def test_viewer_is_computed_once_per_request(django_assert_num_queries):
    agent = AgentFactory()
    request = RequestFactory().get("/")
    request.user = agent.user
    first = viewer_from_request(request)
    with django_assert_num_queries(0):
        assert viewer_from_request(request) is first


def test_request_auth_that_is_not_an_api_key_is_ignored():
    request = RequestFactory().get("/")
    request.user = AgentFactory().user
    request.auth = "some-other-token"
    assert viewer_from_request(request).agent_id is not None
