"""The agent console pages: who may open them, and each action's success, refusal and bad input."""

import re

import pytest
from django.test import Client, override_settings

from agents.breaks import break_request, break_send_now, break_type_get
from agents.choices import AgentStatus, BreakKind
from agents.models import Agent, Break
from agents.services import agent_set_status
from agents.status_rules import SELF_SERVICE_STATUSES
from agents.training import training_assign
from crm.choices import InteractionStatus, MessageDirection
from crm.console.forms import AGENT_SELECTABLE_STATUSES
from crm.interactions.models import Interaction, Message
from tests.agents.factories import AgentFactory, BreakPolicyFactory, TeamFactory, TrainingCourseFactory, UserFactory
from tests.contacts.factories import NoteFactory
from tests.crm.factories import (
    CannedResponseFactory,
    InteractionFactory,
    QueueFactory,
    SurveyFactory,
    SurveyResponseFactory,
    interaction_in_status,
)

pytestmark = pytest.mark.django_db

S = InteractionStatus
PASSWORD = "correct horse battery staple"  # UserFactory's


@pytest.fixture
def agent():
    return AgentFactory(user=UserFactory(username="ana.agent"), name="Ana Agent")


@pytest.fixture
def queue(agent):
    return QueueFactory(name="Support chat", team=agent.team, channels=["chat"])


@pytest.fixture
def client(agent):
    client = Client()
    client.force_login(agent.user)
    return client


def _work(status, agent, queue, **kwargs):
    return interaction_in_status(status, agent=agent, queue=queue, **kwargs)


def _url(interaction, action=""):
    return f"/console/interactions/{interaction.pk}/" + (f"{action}/" if action else "")


def _status(interaction):
    return Interaction.objects.values_list("status", flat=True).get(pk=interaction.pk)


# --- signing in and who may enter -------------------------------------------------------------------


def test_signing_in_lands_on_the_console(agent):
    agent.user.set_password(PASSWORD)
    agent.user.save(update_fields=["password"])
    client = Client()

    response = client.post("/accounts/login/", {"username": "ana.agent", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == "/console/"
    assert client.get("/console/").status_code == 200


def test_anonymous_visitor_is_sent_to_sign_in():
    response = Client().get("/console/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/console/")


def test_a_live_refresh_after_the_session_ended_sends_the_whole_page_to_sign_in():
    response = Client().get(
        "/console/my-work/", HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL="http://testserver/console/interactions/7/"
    )

    assert response.status_code == 200
    assert response["HX-Redirect"] == "/accounts/login/?next=%2Fconsole%2Finteractions%2F7%2F"


def test_user_without_agent_profile_gets_a_403_page_saying_why():
    client = Client()
    client.force_login(UserFactory(username="no.agent"))

    response = client.get("/console/")

    assert response.status_code == 403
    assert "your account has no agent profile" in response.content.decode()


def test_a_supervisor_who_opens_the_console_is_sent_to_their_own_screens():
    client = Client()
    client.force_login(UserFactory(username="sup.ervisor", is_staff=True))

    response = client.get("/console/")

    page = response.content.decode()
    assert response.status_code == 403 and "The console is for agents" in page
    for link in ("/wallboard/", "/admin/agents/agent/board/", "/reports/", "/admin/"):
        assert f'href="{link}"' in page


def test_every_page_names_its_icon_and_the_browser_default_is_redirected_to_it(client):
    login = client.get("/accounts/login/").content.decode()
    assert 'rel="icon"' in login and "switchboard/favicon.svg" in login

    response = client.get("/favicon.ico")

    assert response.status_code == 301 and response["Location"].endswith("switchboard/favicon.svg")


def test_user_without_agent_profile_cannot_post_actions_either(queue):
    interaction = InteractionFactory(queue=queue)
    client = Client()
    client.force_login(UserFactory(username="no.agent"))

    response = client.post(_url(interaction, "accept"))

    assert response.status_code == 403
    assert _status(interaction) == S.QUEUED


# --- the home page: status, my work, queues ----------------------------------------------------------


def test_home_shows_my_work_with_accept_my_queues_and_capacity(client, agent, queue):
    offered = _work(S.ASSIGNED, agent, queue, subject="Printer on fire")
    InteractionFactory(queue=queue)
    InteractionFactory(queue=queue)
    someone_elses = _work(S.ACTIVE, AgentFactory(team=agent.team), queue, subject="Not mine")

    page = client.get("/console/").content.decode()

    assert "Printer on fire" in page
    assert f'action="/console/interactions/{offered.pk}/accept/"' in page
    assert someone_elses.subject not in page
    assert f'data-queue-id="{queue.pk}"' in page
    assert '<td class="waiting">2</td>' in page
    assert 'Chat: <span class="used">1</span> of <span class="max">3</span>' in page


def test_fragments_render_my_work_and_queues(client, agent, queue):
    _work(S.ACTIVE, agent, queue, subject="Refund please")

    work = client.get("/console/my-work/")
    queues = client.get("/console/queues/")

    assert work.status_code == 200 and "Refund please" in work.content.decode()
    assert queues.status_code == 200 and "Support chat" in queues.content.decode()


def test_going_available_changes_the_status_and_logs_it(client, agent):
    response = client.post("/console/status/", {"status": "available"}, follow=True)

    agent.refresh_from_db()
    assert agent.status == AgentStatus.AVAILABLE
    assert agent.status_log.get().actor == agent.user
    assert "You are now available." in response.content.decode()


def test_a_status_the_agent_may_not_take_shows_the_reason(client, agent):
    agent.is_active = False
    agent.save(update_fields=["is_active"])

    response = client.post("/console/status/", {"status": "available"})

    assert response.status_code == 409
    assert "is inactive and cannot become available" in response.content.decode()
    agent.refresh_from_db()
    assert agent.status == AgentStatus.OFFLINE


def test_a_status_agents_do_not_pick_themselves_is_a_form_error(client, agent):
    response = client.post("/console/status/", {"status": "busy"})

    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    agent.refresh_from_db()
    assert agent.status == AgentStatus.OFFLINE


def test_a_status_set_by_the_system_is_shown_as_such(client, agent):
    agent_set_status(agent=agent, status=AgentStatus.AVAILABLE)
    agent_set_status(agent=agent, status=AgentStatus.NOT_READY, reason="offer timed out")

    page = client.get("/console/").content.decode()

    assert ">Not ready</strong>" in page
    assert '<span id="status-system-note" class="subtle" >' in page


def _offered_statuses(page: str) -> list[str]:
    return re.findall(r'<button type="submit" name="status" value="(\w+)"', page)


def test_the_status_menu_offers_on_break_only_where_no_break_policy_asks_for_approval(agent):
    under_policy = AgentFactory(team=TeamFactory(name="Policed"))
    BreakPolicyFactory(team=under_policy.team)
    under_paused_policy = AgentFactory(team=TeamFactory(name="Paused policy"))
    BreakPolicyFactory(team=under_paused_policy.team, is_active=False)

    def menu(someone):
        browser = Client()
        browser.force_login(someone.user)
        return _offered_statuses(browser.get("/console/").content.decode())

    assert menu(agent) == ["available", "not_ready", "on_break", "offline"]
    assert menu(under_paused_policy) == ["available", "not_ready", "on_break", "offline"]
    assert menu(under_policy) == ["available", "not_ready", "offline"]


def test_the_status_menu_holds_what_the_status_rules_let_an_agent_pick():
    assert set(AGENT_SELECTABLE_STATUSES) == SELF_SERVICE_STATUSES | {AgentStatus.ON_BREAK}


def test_going_not_ready_is_the_agents_own_choice_not_a_system_status(client, agent):
    agent_set_status(agent=agent, status=AgentStatus.AVAILABLE)

    response = client.post("/console/status/", {"status": "not_ready"}, follow=True)

    page = response.content.decode()
    assert "You are now not ready." in page
    assert ">Not ready</strong>" in page
    assert '<span id="status-system-note" class="subtle" hidden>' in page
    assert agent.status_log.latest("changed_at").actor == agent.user


def test_on_break_under_a_break_policy_is_refused_with_the_way_to_a_break(client, agent):
    BreakPolicyFactory(team=agent.team)
    agent_set_status(agent=agent, status=AgentStatus.AVAILABLE)

    response = client.post("/console/status/", {"status": "on_break"})

    assert response.status_code == 409
    assert "request a break" in response.content.decode()
    agent.refresh_from_db()
    assert agent.status == AgentStatus.AVAILABLE


# --- opening an interaction -------------------------------------------------------------------------


def test_interaction_page_shows_conversation_customer_history_surveys_and_notes(client, agent, queue):
    past = _work(S.RESOLVED, agent, queue, subject="Old billing question")
    Interaction.objects.filter(pk=past.pk).update(disposition="refund issued")
    SurveyResponseFactory(survey=SurveyFactory(interaction=past), score=5, comment="Lovely help")
    NoteFactory(customer=past.customer, body="Prefers e-mail")
    current = _work(S.ACTIVE, agent, queue, customer=past.customer, subject="New question", body="Hello there")
    past.customer.tags = ["vip"]
    past.customer.save(update_fields=["tags"])

    page = client.get(_url(current)).content.decode()

    assert "Hello there" in page
    assert "Old billing question" in page and "outcome: refund issued" in page
    assert "CSAT 5" in page and "Lovely help" in page
    assert "Prefers e-mail" in page
    assert "<li>vip</li>" in page


def test_customer_history_shows_work_other_teams_handled_without_opening_it(client, agent, queue):
    current = _work(S.ACTIVE, agent, queue)
    sales = QueueFactory(name="Sales", team=TeamFactory(), channels=["chat"])
    elsewhere = _work(
        S.RESOLVED,
        AgentFactory(team=sales.team),
        sales,
        customer=current.customer,
        subject="Upgrade to gold",
        body="Secret sales chat",
    )
    Interaction.objects.filter(pk=elsewhere.pk).update(disposition="sold")
    SurveyResponseFactory(survey=SurveyFactory(interaction=elsewhere), score=2, comment="Too pushy")

    page = client.get(_url(current)).content.decode()

    # the whole history, for personalised service: subject, outcome and survey answer of another team's work
    assert f"#{elsewhere.pk} Upgrade to gold" in page and "outcome: sold" in page
    assert "CSAT 2" in page and "Too pushy" in page
    # a summary only: no link to a page the agent may not open, and none of its messages
    assert _url(elsewhere) not in page
    assert "Secret sales chat" not in page
    assert client.get(_url(elsewhere)).status_code == 404


def test_customer_history_is_shown_only_beside_work_the_agent_may_open(client, agent, queue):
    sales = QueueFactory(team=TeamFactory(), channels=["chat"])
    foreign = _work(S.ACTIVE, AgentFactory(team=sales.team), sales, subject="Not yours")
    _work(S.RESOLVED, agent, queue, customer=foreign.customer, subject="Your earlier case")

    response = client.get(_url(foreign))

    assert response.status_code == 404
    assert "Your earlier case" not in response.content.decode()


def test_customer_history_links_the_work_the_agent_may_open(client, agent, queue):
    current = _work(S.ACTIVE, agent, queue)
    earlier = _work(S.RESOLVED, agent, queue, customer=current.customer, subject="Earlier")

    page = client.get(_url(current)).content.decode()

    assert f'href="{_url(earlier)}"' in page


def test_canned_responses_are_offered_for_insertion(client, agent, queue):
    CannedResponseFactory(title="Greeting", body="Hello, how can I help?")
    CannedResponseFactory(title="Elsewhere", queue=QueueFactory(), body="Not for this queue")
    interaction = _work(S.ACTIVE, agent, queue)

    page = client.get(_url(interaction)).content.decode()

    assert 'data-body="Hello, how can I help?">Greeting' in page
    assert "Elsewhere" not in page


def test_work_waiting_in_my_teams_queue_can_be_read_but_offers_no_actions(client, queue):
    waiting = InteractionFactory(queue=queue, subject="Waiting its turn")

    response = client.get(_url(waiting))

    page = response.content.decode()
    assert response.status_code == 200 and "Waiting its turn" in page
    assert "Send reply" not in page and "/resolve/" not in page and "/accept/" not in page


def test_another_agents_interaction_is_not_found(client, agent, queue):
    other = _work(S.ACTIVE, AgentFactory(team=agent.team), queue)

    assert client.get(_url(other)).status_code == 404


def test_work_waiting_in_another_teams_queue_is_not_found(client):
    elsewhere = InteractionFactory(queue=QueueFactory())

    assert client.get(_url(elsewhere)).status_code == 404


@pytest.mark.parametrize("action", ["accept", "hold", "resume", "reply", "note", "transfer", "resolve"])
def test_actions_on_another_agents_interaction_are_not_found_and_change_nothing(client, agent, queue, action):
    other = _work(S.ACTIVE, AgentFactory(team=agent.team), queue)

    response = client.post(_url(other, action), {"body": "hi", "disposition": "done", "queue": queue.pk})

    assert response.status_code == 404
    assert _status(other) == S.ACTIVE
    assert not Message.objects.filter(interaction=other, author=agent.user).exists()


# --- actions ----------------------------------------------------------------------------------------


def test_accept_takes_offered_work(client, agent, queue):
    interaction = _work(S.ASSIGNED, agent, queue)

    response = client.post(_url(interaction, "accept"), follow=True)

    assert _status(interaction) == S.ACTIVE
    assert "Accepted: the interaction is yours." in response.content.decode()


def test_accepting_work_already_active_says_why_not(client, agent, queue):
    interaction = _work(S.ACTIVE, agent, queue)

    response = client.post(_url(interaction, "accept"))

    assert response.status_code == 409
    assert f"Interaction {interaction.pk} is active; it cannot be accepted." in response.content.decode()


def test_hold_and_resume(client, agent, queue):
    interaction = _work(S.ACTIVE, agent, queue)

    client.post(_url(interaction, "hold"))
    assert _status(interaction) == S.ON_HOLD
    response = client.post(_url(interaction, "resume"), follow=True)
    assert _status(interaction) == S.ACTIVE
    assert "Resumed." in response.content.decode()


def test_holding_work_already_on_hold_says_why_not(client, agent, queue):
    interaction = _work(S.ON_HOLD, agent, queue)

    response = client.post(_url(interaction, "hold"))

    assert response.status_code == 409
    assert "it cannot be put on hold" in response.content.decode()


def test_resuming_work_not_on_hold_says_why_not(client, agent, queue):
    interaction = _work(S.ACTIVE, agent, queue)

    response = client.post(_url(interaction, "resume"))

    assert response.status_code == 409
    assert "it cannot be resumed" in response.content.decode()


def test_reply_sends_an_outbound_message(client, agent, queue):
    interaction = _work(S.ACTIVE, agent, queue)

    response = client.post(_url(interaction, "reply"), {"body": "We are on it."}, follow=True)

    message = Message.objects.get(interaction=interaction, direction=MessageDirection.OUTBOUND)
    assert message.body == "We are on it." and message.author == agent.user
    assert "Reply sent." in response.content.decode()
    assert "We are on it." in response.content.decode()


def test_a_blank_reply_is_a_form_error(client, agent, queue):
    interaction = _work(S.ACTIVE, agent, queue)

    response = client.post(_url(interaction, "reply"), {"body": "   "})

    assert response.status_code == 400
    assert "Write something first." in response.content.decode()
    assert not Message.objects.filter(interaction=interaction, direction=MessageDirection.OUTBOUND).exists()


def test_replying_on_closed_work_says_why_not(client, agent, queue):
    interaction = _work(S.CLOSED, agent, queue)

    response = client.post(_url(interaction, "reply"), {"body": "Hello?"})

    assert response.status_code == 409
    assert "is closed; no messages can be added to it" in response.content.decode()


def test_internal_note_is_added_and_marked_internal(client, agent, queue):
    interaction = _work(S.ACTIVE, agent, queue)

    response = client.post(_url(interaction, "note"), {"body": "Customer sounds upset"}, follow=True)

    assert Message.objects.get(interaction=interaction, direction=MessageDirection.INTERNAL).author == agent.user
    assert "Internal note added." in response.content.decode()


@override_settings(SWITCHBOARD_MAX_MESSAGE_LENGTH=10)
def test_an_overlong_note_is_a_form_error(client, agent, queue):
    interaction = _work(S.ACTIVE, agent, queue)

    response = client.post(_url(interaction, "note"), {"body": "x" * 11})

    assert response.status_code == 400
    assert "A message has at most 10 characters (this one has 11)." in response.content.decode()
    assert not Message.objects.filter(interaction=interaction, direction=MessageDirection.INTERNAL).exists()


def test_transfer_to_a_queue_returns_the_work_there_with_the_note(client, agent, queue):
    interaction = _work(S.ACTIVE, agent, queue)
    billing = QueueFactory(name="Billing", team=agent.team, channels=["chat"])

    response = client.post(_url(interaction, "transfer"), {"queue": billing.pk, "note": "Billing question"})

    assert response.status_code == 302 and response["Location"] == "/console/"
    interaction.refresh_from_db()
    assert (interaction.status, interaction.queue, interaction.agent) == (S.QUEUED, billing, None)
    assert Message.objects.get(interaction=interaction, direction=MessageDirection.INTERNAL).body == "Billing question"


def test_transfer_to_an_available_colleague_offers_it_to_them(client, agent, queue):
    colleague = AgentFactory(team=agent.team, name="Bo Colleague")
    agent_set_status(agent=colleague, status=AgentStatus.AVAILABLE)
    interaction = _work(S.ACTIVE, agent, queue)

    client.post(_url(interaction, "transfer"), {"agent": colleague.pk})

    interaction.refresh_from_db()
    assert (interaction.status, interaction.agent) == (S.ASSIGNED, colleague)


def test_transfer_to_a_colleague_who_is_offline_says_why_not(client, agent, queue):
    colleague = AgentFactory(team=agent.team)
    interaction = _work(S.ACTIVE, agent, queue)

    response = client.post(_url(interaction, "transfer"), {"agent": colleague.pk})

    assert response.status_code == 409
    assert "work can only be transferred to an available agent" in response.content.decode()
    assert _status(interaction) == S.ACTIVE


def test_transfer_out_of_wrap_up_says_why_not(client, agent, queue):
    interaction = _work(S.WRAP_UP, agent, queue)

    response = client.post(_url(interaction, "transfer"), {"queue": queue.pk})

    assert response.status_code == 409
    assert "it cannot be transferred" in response.content.decode()


@pytest.mark.parametrize("both", [False, True])
def test_transfer_needs_exactly_one_target(client, agent, queue, both):
    colleague = AgentFactory(team=agent.team)
    interaction = _work(S.ACTIVE, agent, queue)

    response = client.post(_url(interaction, "transfer"), {"queue": queue.pk, "agent": colleague.pk} if both else {})

    assert response.status_code == 400
    assert "Choose either a queue or an agent to transfer to, not both." in response.content.decode()
    assert _status(interaction) == S.ACTIVE


def test_transfer_to_an_unknown_queue_is_a_form_error(client, agent, queue):
    interaction = _work(S.ACTIVE, agent, queue)

    response = client.post(_url(interaction, "transfer"), {"queue": 999999})

    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()


def test_resolve_records_disposition_and_category(client, agent, queue):
    interaction = _work(S.ACTIVE, agent, queue)

    response = client.post(_url(interaction, "resolve"), {"disposition": "solved", "category": "billing"}, follow=True)

    interaction.refresh_from_db()
    assert (interaction.status, interaction.disposition, interaction.category) == (S.RESOLVED, "solved", "billing")
    assert "Resolved." in response.content.decode()


def test_resolve_without_disposition_is_a_form_error(client, agent, queue):
    interaction = _work(S.ACTIVE, agent, queue)

    response = client.post(_url(interaction, "resolve"), {"disposition": ""})

    assert response.status_code == 400
    assert "Say how it ended: the disposition is required." in response.content.decode()
    assert _status(interaction) == S.ACTIVE


def test_resolving_work_on_hold_says_why_not(client, agent, queue):
    interaction = _work(S.ON_HOLD, agent, queue)

    response = client.post(_url(interaction, "resolve"), {"disposition": "solved"})

    assert response.status_code == 409
    assert "it cannot be resolved" in response.content.decode()
    assert _status(interaction) == S.ON_HOLD


def test_actions_answer_only_to_post(client, agent, queue):
    interaction = _work(S.ACTIVE, agent, queue)

    assert client.get(_url(interaction, "resolve")).status_code == 405


# --- breaks, training and reviews on the console home -------------------------------------------------


def test_console_home_shows_break_training_and_review_panels(client, agent):
    training_assign(course=TrainingCourseFactory(title="Data protection"), agents=[agent])

    page = client.get("/console/").content.decode()

    assert 'id="sb-break"' in page and 'data-api="/api/v1/breaks/"' in page
    assert 'hx-get="/console/break/"' in page
    assert "My training" in page and "Data protection" in page
    assert "No reviews of your work yet." in page


def test_break_fragment_shows_the_running_break_with_its_timer(client, agent):
    brk = break_send_now(agent=agent, actor=None)

    html = client.get("/console/break/").content.decode()

    assert f'data-api="/api/v1/breaks/{brk.pk}/end"' in html and "data-ends-at" in html
    assert "<html" not in html  # a fragment, not a page


def test_break_fragment_sends_a_signed_out_htmx_request_to_the_login():
    response = Client().get("/console/break/", headers={"HX-Request": "true"})
    assert response.status_code == 200 and response["HX-Redirect"].startswith("/accounts/login/")


def _csrf_client(user) -> tuple[Client, str]:
    """A browser-like client: CSRF checked, the token taken from the console page as console.js does."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    page = browser.get("/console/").content.decode()
    token = page.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
    return browser, token


def test_console_break_buttons_call_the_api_with_the_session(agent):
    browser, token = _csrf_client(agent.user)

    asked = browser.post(
        "/api/v1/breaks/", {"break_type": "lunch"}, content_type="application/json", headers={"X-CSRFToken": token}
    )
    again = browser.post(
        "/api/v1/breaks/", {"break_type": "lunch"}, content_type="application/json", headers={"X-CSRFToken": token}
    )

    assert asked.status_code == 201 and asked.json()["status"] == "requested"
    assert again.status_code == 409 and again.json()["detail"]  # a plain message the panel shows


def test_console_agent_takes_and_ends_an_approved_break_through_the_api(agent):
    brk = break_request(agent=agent, break_type=break_type_get(code=BreakKind.LUNCH), actor=None, approved=True)
    browser, token = _csrf_client(agent.user)

    started = browser.post(
        f"/api/v1/breaks/{brk.pk}/start", content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert started.status_code == 200
    assert Agent.objects.get(pk=agent.pk).status == AgentStatus.ON_BREAK
    ended = browser.post(
        f"/api/v1/breaks/{brk.pk}/end", content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert ended.status_code == 200
    assert Agent.objects.get(pk=agent.pk).status == AgentStatus.AVAILABLE


def test_break_api_refuses_a_session_post_without_the_csrf_token(agent):
    browser, _ = _csrf_client(agent.user)
    response = browser.post("/api/v1/breaks/", {"break_type": "lunch"}, content_type="application/json")
    assert response.status_code == 403
    assert not Break.objects.filter(agent=agent).exists()


def test_break_api_bad_input_is_a_field_message(agent):
    browser, token = _csrf_client(agent.user)
    response = browser.post(
        "/api/v1/breaks/", {"break_type": "siesta"}, content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert response.status_code == 400 and "break_type" in response.json()


def test_an_agent_cannot_end_another_agents_break(agent):
    other = break_send_now(agent=AgentFactory(team=agent.team), actor=None)
    browser, token = _csrf_client(agent.user)
    response = browser.post(
        f"/api/v1/breaks/{other.pk}/end", content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert response.status_code == 404
    assert Break.objects.get(pk=other.pk).status == "started"


def test_training_fragment_lists_the_agents_own_courses_only(client, agent):
    training_assign(course=TrainingCourseFactory(title="Mine to do"), agents=[agent])
    training_assign(course=TrainingCourseFactory(title="Someone else's"), agents=[AgentFactory(team=agent.team)])

    html = client.get("/console/training/").content.decode()

    assert "Mine to do" in html and "Someone else" not in html
