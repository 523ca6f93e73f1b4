"""Who sees what: agents.access.viewer_for / viewer_from_request."""

import pytest
from django.contrib.auth.models import AnonymousUser, Group
from django.test import RequestFactory

from agents.access import ADMINISTRATOR_GROUP, NOBODY, is_administrator, viewer_for, viewer_from_request
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


def test_staff_agent_is_only_an_agent_and_keeps_their_agent_id():
    # is_staff opens the admin's door and grants no data: a staff agent sees what any agent sees
    agent = AgentFactory(user__is_staff=True)
    viewer = viewer_for(user=agent.user)
    assert not viewer.unrestricted and viewer.is_agent_only
    assert viewer.agent_id == agent.pk and viewer.team_ids == frozenset({agent.team_id})
    assert viewer.admin_team_ids == set()


def test_administrator_keeps_their_agent_id_and_is_unrestricted():
    agent = AgentFactory(user__is_superuser=True, user__is_staff=True)
    viewer = viewer_for(user=agent.user)
    assert viewer.unrestricted and viewer.agent_id == agent.pk and viewer.admin_team_ids is None


# --- the roles of docs/security.md, one by one: is_administrator and the viewer they get ------------------


def _administrators_group():
    # made by agents/migrations/0007 (again here: a transactional test may have flushed it)
    return Group.objects.get_or_create(name=ADMINISTRATOR_GROUP)[0]


@pytest.fixture
def team_a():
    return TeamFactory(name="A")


def _role(name, team_a):
    """A person or key of each role of docs/security.md; returns (user, api_key)."""
    if name == "superuser":
        return UserFactory(is_superuser=True, is_staff=True), None
    if name == "administrator group":
        user = UserFactory(is_staff=True)
        user.groups.add(_administrators_group())
        return user, None
    if name == "staff supervisor of A":
        user = UserFactory(is_staff=True)
        team_a.supervisors.add(user)
        return user, None
    if name == "staff with no teams":
        return UserFactory(is_staff=True), None
    if name == "agent of A":
        return AgentFactory(team=team_a).user, None
    if name == "team key (A)":
        return None, api_key_create(name="team", scopes=["admin"], team=team_a)[0]
    if name == "unscoped key":
        return None, api_key_create(name="all", scopes=["read"])[0]
    raise AssertionError(name)


# role: (is_administrator, unrestricted, team ids (A or none), is_supervisor, is_agent_only, admin_team_ids)
ROLES = {
    "superuser": (True, True, set(), False, False, None),
    "administrator group": (True, True, set(), False, False, None),
    "staff supervisor of A": (False, False, {"A"}, True, False, {"A"}),
    "staff with no teams": (False, False, set(), False, True, set()),
    "agent of A": (False, False, {"A"}, False, True, set()),
    "team key (A)": (False, False, {"A"}, False, False, set()),
    "unscoped key": (False, True, set(), False, False, None),
}


@pytest.mark.parametrize("name", ROLES)
def test_each_role_gets_the_scope_docs_security_promises(name, team_a):
    user, key = _role(name, team_a)
    administrator, unrestricted, teams, supervisor, agent_only, admin_teams = ROLES[name]
    ids = {"A": team_a.pk}

    viewer = viewer_for(user=user, api_key=key)

    assert is_administrator(user) is administrator
    assert (viewer.unrestricted, viewer.team_ids, viewer.is_supervisor, viewer.is_agent_only) == (
        unrestricted,
        frozenset(ids[t] for t in teams),
        supervisor,
        agent_only,
    )
    assert viewer.admin_team_ids == (None if admin_teams is None else {ids[t] for t in admin_teams})


def test_administrator_group_membership_is_the_role_and_leaving_it_ends_it():
    user = UserFactory(is_staff=True)
    assert not is_administrator(user)
    user.groups.add(_administrators_group())
    fresh = type(user).objects.get(pk=user.pk)  # is_administrator remembers its answer on the user object
    assert is_administrator(fresh) and viewer_for(user=fresh).unrestricted
    user.groups.clear()
    fresh = type(user).objects.get(pk=user.pk)
    assert not is_administrator(fresh) and not viewer_for(user=fresh).unrestricted


def test_an_inactive_superuser_or_administrator_is_no_administrator():
    superuser = UserFactory(is_superuser=True, is_active=False)
    member = UserFactory(is_active=False)
    member.groups.add(_administrators_group())
    assert not is_administrator(superuser) and not is_administrator(member)
    assert not is_administrator(None) and not is_administrator(AnonymousUser())


def test_a_group_merely_named_like_administrators_is_not_the_role():
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.create(name="Administrators"))
    assert not is_administrator(user) and not viewer_for(user=user).unrestricted


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
