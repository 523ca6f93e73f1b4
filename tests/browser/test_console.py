"""The agent console and the wallboard in a real browser, live over websockets (issue 3's scenario).

An agent signs in and goes available; work posted through the REST API appears in their console without a
reload; they open it, see the customer's history, reply and resolve; meanwhile a supervisor's wallboard
shows the queue's waiting count rise and fall live.
"""

import re

import httpx
import pytest
from playwright.sync_api import expect

from crm.access.services.api_keys import api_key_create
from crm.choices import InteractionStatus
from crm.interactions import services as lifecycle
from crm.interactions.models import Interaction, Message
from tests.agents.factories import AgentFactory, TeamFactory, UserFactory
from tests.browser.pages import sign_in, wait_live
from tests.contacts.factories import CustomerFactory
from tests.crm.factories import QueueFactory, interaction_in_status

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    # WhiteNoise serves static files with a synchronous iterator, which Django's ASGI handler warns about
    pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators"),
]


@pytest.fixture
def center(transactional_db, eager_celery):
    team = TeamFactory(name="Support")
    queue = QueueFactory(name="Support chat", team=team, channels=["chat"])
    agent = AgentFactory(user=UserFactory(username="ana"), name="Ana Agent", team=team, capacity={"chat": 1})
    supervisor = UserFactory(username="sam")
    team.supervisors.add(supervisor)
    customer = CustomerFactory(name="Carla Customer")
    interaction_in_status(
        InteractionStatus.RESOLVED, agent=agent, queue=queue, customer=customer, subject="Router broken in May"
    )
    _, raw_key = api_key_create(name="chat platform", scopes=["read", "write"])
    return {"queue": queue, "agent": agent, "customer": customer, "key": raw_key}


def test_work_arrives_live_is_handled_and_the_wallboard_follows(asgi_live_server, asgi_context_factory, center):
    queue, customer = center["queue"], center["customer"]
    api = httpx.Client(base_url=asgi_live_server, headers={"Authorization": f"Bearer {center['key']}"}, timeout=15)

    def post_work(subject):
        response = api.post(
            "/api/v1/interactions/",
            json={"channel": "chat", "customer": customer.pk, "queue": queue.pk, "subject": subject, "body": subject},
        )
        assert response.status_code == 201, response.text
        return response.json()["id"]

    # The agent signs in, lands on the console, goes available.
    agent_page = asgi_context_factory().new_page()
    sign_in(agent_page, "ana")
    expect(agent_page).to_have_url(f"{asgi_live_server}/console/")
    agent_page.get_by_role("button", name="Available").click()
    expect(agent_page.get_by_text("You are now available.")).to_be_visible()
    expect(agent_page.locator("#my-status")).to_have_text("Available")
    wait_live(agent_page)

    # The supervisor watches the wallboard.
    board = asgi_context_factory().new_page()
    sign_in(board, "sam")
    board.goto("/wallboard/")
    wait_live(board)
    waiting = board.locator(f'.wallboard-queues tr[data-queue-id="{queue.pk}"] .waiting')
    expect(waiting).to_have_text("0")
    expect(board.locator('#wallboard-agents tr[data-status="available"]')).to_contain_text("Ana Agent")

    # Work posted through the API is routed to the agent and appears in the console without a reload.
    first = post_work("Router down again")
    row = agent_page.locator(f"#work-{first}")
    expect(row).to_contain_text("Router down again")
    expect(row).to_contain_text("Assigned")
    expect(agent_page.locator("#new-work")).to_contain_text(f"New work: #{first} from Carla Customer")

    # The agent's one chat slot is taken: the next one waits, and the wallboard counts it live.
    second = post_work("Second question")
    expect(waiting).to_have_text("1")

    # A dropped connection is announced in plain words and recovered from.
    agent_page.evaluate("window.SwitchboardLive.connection.ws.close()")
    expect(agent_page.get_by_role("alert").filter(has_text="Connection lost — reconnecting…")).to_be_visible()
    expect(agent_page.locator("#live-banner")).to_be_hidden()

    # A gap in the event numbers (a message the channel layer lost) makes the client ask for a fresh snapshot.
    snapshots = agent_page.evaluate("window.SwitchboardLive.connection.snapshots")
    agent_page.evaluate(
        "c => c.receive(JSON.stringify({type: 'event', seq: c.seq + 2, event: 'queue.stats', data: {}}))",
        agent_page.evaluate_handle("window.SwitchboardLive.connection"),
    )
    agent_page.wait_for_function(f"() => window.SwitchboardLive.connection.snapshots > {snapshots}")

    # Accept, then handle it with the customer's history beside the conversation.
    row.get_by_role("button", name=f"Accept #{first}").click()
    expect(agent_page).to_have_url(re.compile(rf"/console/interactions/{first}/$"))
    expect(agent_page.get_by_text("Accepted: the interaction is yours.")).to_be_visible()
    history = agent_page.get_by_role("list", name="Other interactions of this customer")
    expect(history).to_contain_text("Router broken in May")
    expect(history).to_contain_text("resolved")

    agent_page.get_by_label("Reply to the customer").fill("Sorry about that: a new router is on its way.")
    agent_page.get_by_role("button", name="Send reply").click()
    expect(agent_page.get_by_text("Reply sent.")).to_be_visible()
    expect(agent_page.get_by_role("list", name="Messages")).to_contain_text("a new router is on its way")

    wait_live(agent_page)
    agent_page.get_by_label("Disposition").fill("replacement sent")
    agent_page.get_by_role("button", name="Resolve").click()
    expect(agent_page.get_by_text("Resolved.", exact=True)).to_be_visible()

    # Resolving freed the slot: the waiting work goes to the agent, and the wallboard's count drops live.
    expect(waiting).to_have_text("0")
    wait_live(agent_page)
    expect(agent_page.locator("#new-work")).to_contain_text(f"New work: #{second}")

    resolved = Interaction.objects.get(pk=first)
    assert (resolved.status, resolved.disposition) == (InteractionStatus.RESOLVED, "replacement sent")
    assert Message.objects.filter(interaction_id=first, direction="outbound", author__username="ana").exists()
    assert Interaction.objects.get(pk=second).agent_id == center["agent"].pk
    api.close()


def _anas_open_work(center, asgi_context_factory, *, subject: str, body: str):
    """Ana's active interaction with the center's customer, and a page signed in as her."""
    interaction = interaction_in_status(
        InteractionStatus.ACTIVE,
        agent=center["agent"],
        queue=center["queue"],
        customer=center["customer"],
        subject=subject,
        body=body,
    )
    page = asgi_context_factory().new_page()
    sign_in(page, "ana")
    return interaction, page


def test_a_message_written_before_the_console_socket_joined_is_shown(asgi_live_server, asgi_context_factory, center):
    """The customer writes after the server drew the interaction page and before its socket joined: that
    message's live event reached nobody on this page, so the first snapshot redraws the conversation."""
    interaction, page = _anas_open_work(
        center, asgi_context_factory, subject="Parcel lost", body="My parcel never came."
    )
    held = {"closed": True}

    def console_socket(ws):
        # while held, each attempt is refused, as a slow network or a restarting server would; then it joins
        if held["closed"]:
            ws.close()
        else:
            ws.connect_to_server()

    page.route_web_socket(re.compile(r"/ws/console/$"), console_socket)
    page.goto(f"/console/interactions/{interaction.pk}/")
    messages = page.get_by_role("list", name="Messages")
    expect(messages).to_contain_text("My parcel never came.")
    assert page.evaluate("window.SwitchboardLive.connection.snapshots") == 0

    lifecycle.message_create(interaction=interaction, direction="inbound", body="Found it at the neighbour's.")
    held["closed"] = False
    wait_live(page)
    expect(messages).to_contain_text("Found it at the neighbour's.")
    # the redraw is silent: nothing new was announced, the page only caught up
    expect(page.get_by_text("New message from the customer.")).to_have_count(0)


def test_a_message_that_arrives_while_the_conversation_is_being_redrawn_is_not_lost(
    asgi_live_server, asgi_context_factory, center
):
    """The first snapshot redraws the conversation; a customer message written after the server answered that redraw
    but before the page drew it must bring one more redraw (one in flight does not cover it)."""
    interaction, page = _anas_open_work(center, asgi_context_factory, subject="Refund", body="Where is my refund?")
    held = []

    def hold_the_first_redraw(route):
        if route.request.resource_type == "fetch" and not held:
            held.append((route, route.fetch()))  # the server's answer, read now: before the message below
        else:
            route.continue_()

    page.route(re.compile(rf"/console/interactions/{interaction.pk}/$"), hold_the_first_redraw)
    page.goto(f"/console/interactions/{interaction.pk}/")
    wait_live(page)
    while not held:
        page.wait_for_timeout(50)
    seq = page.evaluate("window.SwitchboardLive.connection.seq")

    lifecycle.message_create(interaction=interaction, direction="inbound", body="It arrived, thank you.")
    page.wait_for_function(f"() => window.SwitchboardLive.connection.seq > {seq}")  # the page heard of it
    route, stale = held[0]
    route.fulfill(response=stale)

    messages = page.get_by_role("list", name="Messages")
    expect(messages).to_contain_text("It arrived, thank you.")
    expect(page.get_by_text("New message from the customer.")).to_be_visible()
