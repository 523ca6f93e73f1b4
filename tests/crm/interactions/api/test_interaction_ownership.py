"""Agents act only on their own work: through the API and through the console, one rule decides
(``crm.interactions.permissions.interaction_action_refusal``). A teammate may read the work waiting in the team's
queues but not assign, abandon, reply to or transfer it; an offer must be accepted before anything else; a supervisor
of the team may do all of it; another team's work is not even visible (404)."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from agents.access import viewer_for
from crm.choices import InteractionStatus, MessageDirection
from crm.interactions.models import Interaction, Message
from crm.interactions.permissions import InteractionAction, interaction_action_refusal, interaction_permitted_actions
from tests.agents.factories import AdministratorFactory, AgentFactory, TeamFactory, UserFactory
from tests.crm.factories import QueueFactory, interaction_in_status

pytestmark = pytest.mark.django_db

S = InteractionStatus
API = "/api/v1/interactions/"


@pytest.fixture
def floor():
    """Team A: agents Ann and Abe, queues 1 and 2, a supervisor. Team B: agent Bea, its queue, its supervisor."""
    team_a, team_b = TeamFactory(name="A"), TeamFactory(name="B")
    people = {
        "ann": AgentFactory(name="Ann", team=team_a),
        "abe": AgentFactory(name="Abe", team=team_a),
        "bea": AgentFactory(name="Bea", team=team_b),
        "sup_a": UserFactory(username="sup-a", is_staff=True),
        "sup_b": UserFactory(username="sup-b", is_staff=True),
    }
    team_a.supervisors.add(people["sup_a"])
    team_b.supervisors.add(people["sup_b"])
    queues = {
        "a": QueueFactory(name="A chat", team=team_a, channels=["chat"]),
        "a2": QueueFactory(name="A chat 2", team=team_a, channels=["chat"]),
        "b": QueueFactory(name="B chat", team=team_b, channels=["chat"]),
    }
    return {**people, **queues}


def api(user):
    client = APIClient()
    client.force_login(user)
    return client


def status_of(interaction):
    return Interaction.objects.values_list("status", "agent_id").get(pk=interaction.pk)


# --- the rule itself -----------------------------------------------------------------------------------------


def test_the_rule_for_each_kind_of_caller(floor):
    queued = interaction_in_status(S.QUEUED, queue=floor["a"])
    offered = interaction_in_status(S.ASSIGNED, queue=floor["a"], agent=floor["ann"])
    active = interaction_in_status(S.ACTIVE, queue=floor["a"], agent=floor["ann"])

    def allowed(user, interaction):
        return interaction_permitted_actions(viewer=viewer_for(user=user), interaction=interaction)

    everything = frozenset(InteractionAction)
    own_work = everything - {InteractionAction.ASSIGN, InteractionAction.ESCALATE}
    # Ann: her accepted work, all but moving queued work; her offer, only accept; the team's queue, nothing
    assert allowed(floor["ann"].user, active) == own_work
    assert allowed(floor["ann"].user, offered) == {InteractionAction.ACCEPT}
    # (accept of what is no offer is the lifecycle's to refuse, with its reason: 409)
    assert allowed(floor["ann"].user, queued) == {InteractionAction.ACCEPT}
    # Abe, her teammate: nothing of it; Bea's supervisor: nothing (they cannot even see it); A's: all
    assert allowed(floor["abe"].user, active) == {InteractionAction.ACCEPT}
    assert allowed(floor["abe"].user, offered) == frozenset()
    assert allowed(floor["sup_b"], offered) == frozenset()
    assert allowed(floor["sup_a"], active) == everything == allowed(floor["sup_a"], queued)
    assert allowed(AdministratorFactory(), queued) == everything
    # staff alone is nobody
    assert allowed(UserFactory(is_staff=True), offered) == frozenset()
    assert "accept it first" in interaction_action_refusal(
        viewer=viewer_for(user=floor["ann"].user), interaction=offered, action="message"
    )


# --- through the API -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "action, body",
    [("assign", "self"), ("abandon", None), ("messages", {"direction": "outbound", "body": "Hi, I'm on it"})],
)
def test_an_agent_cannot_touch_queued_work_of_their_team_that_nobody_accepted(floor, action, body):
    queued = interaction_in_status(S.QUEUED, queue=floor["a"])
    ann = floor["ann"]
    client = api(ann.user)
    assert client.get(f"{API}{queued.pk}/").status_code == 200  # she may see it waiting

    payload = {"agent": ann.pk} if body == "self" else (body or {})
    response = client.post(f"{API}{queued.pk}/{action}/", payload, format="json")

    assert response.status_code == 403, response.content
    assert "supervisor" in response.json()["detail"]
    assert status_of(queued) == (S.QUEUED, None)
    assert not Message.objects.filter(interaction=queued, direction=MessageDirection.OUTBOUND).exists()


@pytest.mark.parametrize("action", ["hold", "resolve", "wrap-up", "transfer", "messages"])
def test_an_agent_cannot_act_on_a_teammates_work(floor, action):
    work = interaction_in_status(S.ACTIVE, queue=floor["a"], agent=floor["abe"])
    body = {"queue": floor["a2"].pk} if action == "transfer" else {}
    if action == "messages":
        body = {"direction": "internal", "body": "taking over"}

    response = api(floor["ann"].user).post(f"{API}{work.pk}/{action}/", body, format="json")

    # Abe's active work is not visible to Ann at all: only queued work of the team is
    assert response.status_code == 404
    assert status_of(work) == (S.ACTIVE, floor["abe"].pk)


def test_an_offer_must_be_accepted_before_anything_else(floor):
    ann = floor["ann"]
    offered = interaction_in_status(S.ASSIGNED, queue=floor["a"], agent=ann)
    client = api(ann.user)

    for action, body in [
        ("transfer", {"queue": floor["a2"].pk}),
        ("abandon", {}),
        ("messages", {"direction": "outbound", "body": "hello"}),
    ]:
        refused = client.post(f"{API}{offered.pk}/{action}/", body, format="json")
        assert refused.status_code == 403 and refused.json()["detail"].endswith("accept it first."), action
    assert status_of(offered) == (S.ASSIGNED, ann.pk)

    accepted = client.post(f"{API}{offered.pk}/accept/", {}, format="json")
    replied = client.post(f"{API}{offered.pk}/messages/", {"direction": "outbound", "body": "hello"}, format="json")
    held = client.post(f"{API}{offered.pk}/hold/", {}, format="json")
    assert (accepted.status_code, replied.status_code, held.status_code) == (200, 201, 200)
    assert status_of(offered) == (S.ON_HOLD, ann.pk)


def test_an_agent_cannot_accept_anothers_offer_and_another_team_sees_nothing(floor):
    offered = interaction_in_status(S.ASSIGNED, queue=floor["a"], agent=floor["abe"])
    assert api(floor["ann"].user).post(f"{API}{offered.pk}/accept/", {}, format="json").status_code == 404
    assert api(floor["bea"].user).post(f"{API}{offered.pk}/accept/", {}, format="json").status_code == 404
    assert api(floor["sup_b"]).post(f"{API}{offered.pk}/abandon/", {}, format="json").status_code == 404
    assert status_of(offered) == (S.ASSIGNED, floor["abe"].pk)


def test_a_supervisor_of_the_team_assigns_transfers_and_abandons(floor):
    client = api(floor["sup_a"])
    queued = interaction_in_status(S.QUEUED, queue=floor["a"])
    held = interaction_in_status(S.ON_HOLD, queue=floor["a"], agent=floor["abe"])

    assigned = client.post(f"{API}{queued.pk}/assign/", {"agent": floor["ann"].pk}, format="json")
    note = client.post(f"{API}{held.pk}/messages/", {"direction": "internal", "body": "why?"}, format="json")
    abandoned = client.post(f"{API}{held.pk}/abandon/", {}, format="json")

    assert (assigned.status_code, note.status_code, abandoned.status_code) == (200, 201, 200)
    assert status_of(queued) == (S.ASSIGNED, floor["ann"].pk)
    assert status_of(held)[0] == S.ABANDONED
    # but not to another team's agent: that one is not in their view
    other = interaction_in_status(S.QUEUED, queue=floor["a"])
    refused = client.post(f"{API}{other.pk}/assign/", {"agent": floor["bea"].pk}, format="json")
    assert refused.status_code == 400 and "agent" in refused.json()


def test_a_team_key_acts_on_its_teams_work_only(floor, key_client_factory):
    client = key_client_factory(["read", "write"], team=floor["a"].team)
    queued_a = interaction_in_status(S.QUEUED, queue=floor["a"])
    queued_b = interaction_in_status(S.QUEUED, queue=floor["b"])

    assert client.post(f"{API}{queued_a.pk}/assign/", {"agent": floor["ann"].pk}, format="json").status_code == 200
    assert client.post(f"{API}{queued_b.pk}/assign/", {"agent": floor["bea"].pk}, format="json").status_code == 404
    assert status_of(queued_b) == (S.QUEUED, None)


# --- through the console -------------------------------------------------------------------------------------


def console(user):
    client = Client()
    client.force_login(user)
    return client


def test_console_refuses_a_reply_or_note_on_queued_team_work_and_offers_no_button(floor):
    queued = interaction_in_status(S.QUEUED, queue=floor["a"])
    client = console(floor["ann"].user)

    page = client.get(f"/console/interactions/{queued.pk}/")
    reply = client.post(f"/console/interactions/{queued.pk}/reply/", {"body": "Hi!"})
    note = client.post(f"/console/interactions/{queued.pk}/note/", {"body": "mine now"})

    assert page.status_code == 200
    assert f"/console/interactions/{queued.pk}/reply/" not in page.content.decode()
    assert (reply.status_code, note.status_code) == (403, 403)
    assert "is not assigned to you" in reply.content.decode()
    assert not Message.objects.filter(interaction=queued).exclude(direction=MessageDirection.INBOUND).exists()


def test_console_refuses_everything_but_accept_on_an_offer(floor):
    ann = floor["ann"]
    offered = interaction_in_status(S.ASSIGNED, queue=floor["a"], agent=ann)
    client = console(ann.user)

    page = client.get(f"/console/interactions/{offered.pk}/").content.decode()
    transfer = client.post(f"/console/interactions/{offered.pk}/transfer/", {"queue": floor["a2"].pk, "note": ""})
    reply = client.post(f"/console/interactions/{offered.pk}/reply/", {"body": "hello"})

    assert f"/console/interactions/{offered.pk}/accept/" in page
    assert f"/console/interactions/{offered.pk}/reply/" not in page
    assert (transfer.status_code, reply.status_code) == (403, 403)
    assert "accept it first" in reply.content.decode()
    assert status_of(offered) == (S.ASSIGNED, ann.pk)
    assert client.post(f"/console/interactions/{offered.pk}/accept/").status_code == 302
    assert client.post(f"/console/interactions/{offered.pk}/reply/", {"body": "hello"}).status_code == 302
    assert Message.objects.filter(interaction=offered, direction=MessageDirection.OUTBOUND, body="hello").exists()


def test_console_of_a_supervisor_who_is_an_agent_acts_on_the_teams_work(floor):
    lead = AgentFactory(name="Lea", team=floor["a"].team)
    floor["a"].team.supervisors.add(lead.user)
    work = interaction_in_status(S.ACTIVE, queue=floor["a"], agent=floor["abe"])

    response = console(lead.user).post(f"/console/interactions/{work.pk}/hold/")

    assert response.status_code == 302
    assert status_of(work) == (S.ON_HOLD, floor["abe"].pk)
