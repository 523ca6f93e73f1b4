"""``widget_conversation``: the visitor's own latest conversation through the inbox, read by one fixed statement."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.choices import InteractionStatus
from crm.interactions.models import Interaction
from crm.widget.selectors import widget_conversation
from crm.widget.services import widget_message_receive
from crm.widget.visitors import visitor_for

from .conftest import chat_inbox

pytestmark = pytest.mark.django_db


def test_a_visitor_finds_their_own_open_conversation_and_never_anothers():
    inbox = chat_inbox()
    other_inbox = chat_inbox()
    ada, bob = visitor_for(inbox=inbox, token=None), visitor_for(inbox=inbox, token=None)
    widget_message_receive(inbox=inbox, visitor_id=ada.id, body="Hello?", client_id="a1", subject="Order 17")
    widget_message_receive(inbox=inbox, visitor_id=bob.id, body="Hi", client_id="b1")
    adas = Interaction.objects.get(customer__identities__address=ada.id)

    with CaptureQueriesContext(connection) as statements:
        found = widget_conversation(inbox=inbox, visitor_id=ada.id)
    assert len(statements) == 1
    assert found.pk == adas.pk
    # the columns the widget uses, each in its place
    assert (found.customer_id, found.inbox_id, found.channel, found.status, found.agent_id, found.subject) == (
        adas.customer_id,
        inbox.pk,
        "chat",
        InteractionStatus.QUEUED,
        None,
        "Order 17",
    )
    assert found.resolved_at is None
    assert widget_conversation(inbox=other_inbox, visitor_id=ada.id) is None  # the same visitor on another site
    assert widget_conversation(inbox=inbox, visitor_id="v-nobody") is None


def test_a_resolved_conversation_is_found_only_when_asked_and_a_closed_one_never():
    inbox = chat_inbox()
    visitor = visitor_for(inbox=inbox, token=None)
    widget_message_receive(inbox=inbox, visitor_id=visitor.id, body="Hello?", client_id="1")
    interaction = Interaction.objects.get()
    Interaction.objects.filter(pk=interaction.pk).update(status=InteractionStatus.RESOLVED)

    assert widget_conversation(inbox=inbox, visitor_id=visitor.id) is None
    assert widget_conversation(inbox=inbox, visitor_id=visitor.id, include_resolved=True).pk == interaction.pk

    Interaction.objects.filter(pk=interaction.pk).update(status=InteractionStatus.CLOSED)
    assert widget_conversation(inbox=inbox, visitor_id=visitor.id, include_resolved=True) is None
