"""What one chat message costs the database, pinned: a visitor's message, and an agent's reply through the API and
the console, each ending where the other side sees it (the reply sent to the visitor's socket group). The counts
are today's; a change that adds a statement to this path (the busiest of the widget) must say why here.

Measured with ``bench/widget_hops.py``; in these tests the same paths, committed (the reply's delivery is sent after
its commit), with a conversation an agent holds."""

from uuid import uuid4

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from agents.models import AuditEntry
from crm.choices import DeliveryStatus, InteractionStatus
from crm.inboxes.models import Delivery
from crm.interactions import services as lifecycle
from crm.interactions.models import Interaction, Message
from crm.widget.services import widget_message_receive
from crm.widget.visitors import visitor_for
from tests.agents.factories import AgentFactory

from .conftest import chat_inbox

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("own_cache_generation")]

# A visitor's message in an open conversation: its conversation, found through the visitor's identity (1), BEGIN, the
# import receipt unless its key is taken, one statement with no savepoint (1), the message under the conversation's
# lock (2: no savepoint of its own inside the import's transaction, config.savepoints), the receipt completed (1),
# COMMIT — the conversation is not read a second time, nor the visitor's customer (the conversation was found
# through their identity).
VISITOR_MESSAGE = 7
# An agent's reply through the API: the interaction as the key may see it (1); the reply's transaction (BEGIN, lock
# with the inbox joined, message written pending already, audit entry, delivery written already claimed, COMMIT: 6);
# the visitor's address (1); the outcome recorded: the delivery sent while still pending and its message, in one
# statement (1). No inbox read, no update of the message to pending, no transaction around the outcome, no claim
# transaction, no thread ids, no read of the delivery to record it, and none of the agent to tell of it.
API_REPLY = 9
# The same reply from the agent's console: the session, user and agent (3), whether the user administers or
# supervises (2), the interaction with what the page shows (1), then the reply as above (8).
CONSOLE_REPLY = 14
# The reply the bench's agents (and a real conversation) mostly send: the visitor wrote again after an answer, so the
# reply also stops the next-response clock. One UPDATE of the interaction more, inside the same transaction: its old
# values are the locked row's (no read before it), its team the agent's, joined to the lock (no read of the agent), and
# its audit entry goes in one INSERT with the message's.
API_REPLY_STOPPING_THE_CLOCK = API_REPLY + 1
CONSOLE_REPLY_STOPPING_THE_CLOCK = CONSOLE_REPLY + 1


@pytest.fixture
def held_chat():
    """A visitor's conversation through a chat inbox, held by an agent; the visitor's id and the agent."""
    agent = AgentFactory()
    inbox = chat_inbox()
    inbox.queue.team = agent.team
    inbox.queue.save(update_fields=["team"])
    visitor = visitor_for(inbox=inbox, token=None)
    widget_message_receive(inbox=inbox, visitor_id=visitor.id, body="Hello?", client_id="first")
    interaction = Interaction.objects.get()
    lifecycle.interaction_assign(interaction=interaction, agent=agent)
    lifecycle.interaction_accept(interaction=Interaction.objects.get(), agent=agent)
    assert Interaction.objects.get().status == InteractionStatus.ACTIVE
    return inbox, visitor.id, agent


def test_a_visitors_message_costs_a_fixed_number_of_statements(held_chat):
    inbox, visitor_id, _agent = held_chat
    with CaptureQueriesContext(connection) as statements:
        receipt = widget_message_receive(inbox=inbox, visitor_id=visitor_id, body="Are you there?", client_id="second")
    assert receipt.created and not receipt.new_interaction
    assert Message.objects.filter(interaction=receipt.interaction).count() == 2
    assert len(statements) == VISITOR_MESSAGE, "\n".join(query["sql"][:150] for query in statements)


def test_a_chat_reply_through_the_api_costs_a_fixed_number_of_statements(held_chat, write_client):
    interaction = Interaction.objects.get()
    url = f"/api/v1/interactions/{interaction.pk}/messages/"
    write_client.post(url, {"direction": "outbound", "body": "Hi!"}, format="json")  # the first response, stamped
    with CaptureQueriesContext(connection) as statements:
        answer = write_client.post(url, {"direction": "outbound", "body": "Yes, how can I help?"}, format="json")
    assert answer.status_code == 201, answer.content
    delivery = Delivery.objects.get(message_id=answer.json()["id"])
    assert delivery.status == DeliveryStatus.SENT and delivery.attempts == 1  # sent once, in the request
    assert len(statements) == API_REPLY, "\n".join(query["sql"][:150] for query in statements)


@pytest.mark.parametrize(
    ("visitor_wrote_again", "expected"), [(False, CONSOLE_REPLY), (True, CONSOLE_REPLY_STOPPING_THE_CLOCK)]
)
def test_a_chat_reply_from_the_console_costs_a_fixed_number_of_statements(held_chat, visitor_wrote_again, expected):
    inbox, visitor_id, agent = held_chat
    interaction = Interaction.objects.get()
    console = Client()
    console.force_login(agent.user)
    console.post(f"/console/interactions/{interaction.pk}/reply/", {"body": "Hi!"})  # the first response, stamped
    if visitor_wrote_again:
        _visitor_writes_again(inbox, visitor_id)
    with CaptureQueriesContext(connection) as statements:
        answer = console.post(f"/console/interactions/{interaction.pk}/reply/", {"body": "On my way."})
    assert answer.status_code == 302
    reply = Message.objects.get(body="On my way.")
    assert reply.author_id == agent.user_id and reply.delivery_status == DeliveryStatus.SENT
    assert Interaction.objects.get().next_response_from is None
    assert len(statements) == expected, "\n".join(query["sql"][:150] for query in statements)


def _visitor_writes_again(inbox, visitor_id) -> None:
    widget_message_receive(inbox=inbox, visitor_id=visitor_id, body="Still there?", client_id=f"again-{uuid4().hex}")
    assert Interaction.objects.get().next_response_from is not None  # the clock the reply stops


def test_a_reply_stopping_the_next_response_clock_costs_one_statement_more(held_chat, write_client):
    inbox, visitor_id, _agent = held_chat
    interaction = Interaction.objects.get()
    url = f"/api/v1/interactions/{interaction.pk}/messages/"
    write_client.post(url, {"direction": "outbound", "body": "Hi!"}, format="json")
    _visitor_writes_again(inbox, visitor_id)
    with CaptureQueriesContext(connection) as statements:
        answer = write_client.post(url, {"direction": "outbound", "body": "Yes!"}, format="json")
    assert answer.status_code == 201, answer.content
    assert Interaction.objects.get().next_response_from is None
    entries = AuditEntry.objects.filter(actor_api_key_id=write_client.api_key.pk).order_by("-id")[:2]
    message_entry, interaction_entry = sorted(entries, key=lambda entry: entry.content_type.model, reverse=True)
    assert interaction_entry.changes["next_response_from"][0] is not None  # the old value, from the locked row
    assert interaction_entry.changes["next_response_from"][1] is None
    assert interaction_entry.team_id == message_entry.team_id == inbox.queue.team_id
    assert len(statements) == API_REPLY_STOPPING_THE_CLOCK, "\n".join(query["sql"][:150] for query in statements)
