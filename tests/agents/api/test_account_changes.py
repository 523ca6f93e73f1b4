"""Changing an e-mail address or a password: one's own needs the current password, and the owner is told.

The old address gets the notice of an address change (so a borrowed session cannot quietly redirect password
resets), and the account's address the notice of a password change, wherever it is made.
"""

import pytest
from django.core import mail
from django.test import Client

from agents.accounts import EMAIL_CHANGED_SUBJECT, PASSWORD_CHANGED_SUBJECT
from tests.agents.factories import AdministratorFactory, AgentFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"  # UserFactory's


def detail(agent_id) -> str:
    return f"/api/v1/agents/{agent_id}/"


@pytest.fixture
def admin_agent(team_a):
    """An administrator who is also an agent: the only kind of person who may PATCH an agent with a session."""
    return AgentFactory(team=team_a, user=AdministratorFactory(username="ada", email="ada@old.example"))


def _emails(user):
    user.refresh_from_db()
    return user.email


def test_changing_ones_own_address_without_the_password_is_refused_and_tells_nobody(
    session_client, admin_agent, django_capture_on_commit_callbacks
):
    client = session_client(admin_agent.user)

    with django_capture_on_commit_callbacks(execute=True):
        missing = client.patch(detail(admin_agent.pk), {"email": "ada@new.example"}, format="json")
        wrong = client.patch(
            detail(admin_agent.pk), {"email": "ada@new.example", "current_password": "guess"}, format="json"
        )

    assert (missing.status_code, wrong.status_code) == (400, 400)
    assert wrong.json() == {"current_password": ["Give your current password to change your own e-mail address."]}
    assert _emails(admin_agent.user) == "ada@old.example"
    assert mail.outbox == []


def test_changing_ones_own_address_with_the_password_tells_the_old_address(
    session_client, admin_agent, django_capture_on_commit_callbacks
):
    client = session_client(admin_agent.user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.patch(
            detail(admin_agent.pk), {"email": "ada@new.example", "current_password": PASSWORD}, format="json"
        )

    assert response.status_code == 200, response.content
    assert response.json()["email"] == "ada@new.example" and "current_password" not in response.json()
    (notice,) = mail.outbox
    assert notice.to == ["ada@old.example"] and notice.subject == EMAIL_CHANGED_SUBJECT
    assert "from ada@old.example to ada@new.example" in notice.body


def test_other_changes_to_ones_own_profile_need_no_password(session_client, admin_agent):
    response = session_client(admin_agent.user).patch(detail(admin_agent.pk), {"name": "Ada L."}, format="json")

    assert response.status_code == 200 and response.json()["name"] == "Ada L."


def test_a_key_changing_an_agents_address_tells_the_old_address(
    key_client_factory, team_a, agent_a, django_capture_on_commit_callbacks
):
    # a team-bound admin key: what manages a team's agents through the API (supervisors' sessions cannot)
    client = key_client_factory(["admin"], team=team_a)
    old = agent_a.user.email

    with django_capture_on_commit_callbacks(execute=True):
        response = client.patch(detail(agent_a.pk), {"email": "alice@elsewhere.example"}, format="json")

    assert response.status_code == 200, response.content
    assert _emails(agent_a.user) == "alice@elsewhere.example"
    (notice,) = mail.outbox
    assert notice.to == [old] and "alice@elsewhere.example" in notice.body


def test_an_agent_cannot_change_their_own_address_through_the_api_at_all(session_client, agent_a):
    client = session_client(agent_a.user)
    before = agent_a.user.email

    response = client.patch(detail(agent_a.pk), {"email": "me@evil.example", "current_password": PASSWORD})

    assert response.status_code == 403
    assert _emails(agent_a.user) == before


def test_changing_ones_password_needs_the_old_one_and_tells_the_account_address(
    agent_a, django_capture_on_commit_callbacks
):
    client = Client()
    client.force_login(agent_a.user)
    new = "an entirely new passphrase 42"

    with django_capture_on_commit_callbacks(execute=True):
        refused = client.post(
            "/accounts/password_change/", {"old_password": "guess", "new_password1": new, "new_password2": new}
        )
    assert refused.status_code == 200 and mail.outbox == []  # the form again, with its error

    with django_capture_on_commit_callbacks(execute=True):
        changed = client.post(
            "/accounts/password_change/", {"old_password": PASSWORD, "new_password1": new, "new_password2": new}
        )

    assert changed.status_code == 302
    agent_a.user.refresh_from_db()
    assert agent_a.user.check_password(new)
    (notice,) = mail.outbox
    assert notice.to == [agent_a.user.email] and notice.subject == PASSWORD_CHANGED_SUBJECT


def test_a_password_set_anywhere_tells_the_owner_and_an_address_less_user_is_skipped(
    agent_a, django_capture_on_commit_callbacks
):
    silent = AgentFactory(user__email="").user
    with django_capture_on_commit_callbacks(execute=True):
        for user in (agent_a.user, silent):
            user.set_password("another long passphrase")
            user.save()

    assert [m.to for m in mail.outbox] == [[agent_a.user.email]]
