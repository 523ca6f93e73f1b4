"""The widget's status receiver: a chat's visitor hears of its changes; any other channel's change costs nothing."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.choices import InteractionStatus
from crm.interactions.models import Interaction
from crm.interactions.signals import interaction_changed
from crm.widget.receivers import publish_widget_status
from tests.contacts.factories import ContactIdentityFactory
from tests.crm.factories import interaction_in_status
from tests.crm.widget.conftest import chat_inbox

pytestmark = pytest.mark.django_db


def widget_reads(queries) -> list[str]:
    """The receiver's query: the changed interactions that are chats of a chat inbox."""
    return [q["sql"] for q in queries if '"crm_inbox"."adapter" = \'chat\'' in q["sql"]]


@pytest.mark.parametrize("channel", ["email", "sms", "voice"])
def test_a_change_of_another_channel_runs_no_widget_query(channel, django_capture_on_commit_callbacks):
    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True):
        interaction_in_status(InteractionStatus.RESOLVED, channel=channel)

    assert widget_reads(queries.captured_queries) == []


def test_a_chat_an_integrator_created_without_an_inbox_runs_no_widget_query(django_capture_on_commit_callbacks):
    # no inbox, so no widget and no visitor: the API's chat creates (the ingest benchmark's) cost nothing here
    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True):
        interaction_in_status(InteractionStatus.RESOLVED, channel="chat")

    assert widget_reads(queries.captured_queries) == []


def test_a_widget_chats_changes_are_looked_up_for_its_visitor(django_capture_on_commit_callbacks):
    inbox = chat_inbox()
    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True):
        interaction_in_status(InteractionStatus.RESOLVED, channel="chat", queue=inbox.queue, inbox=inbox)

    assert widget_reads(queries.captured_queries)  # created, assigned, accepted, resolved: each tells its visitor


def test_a_batch_of_chats_finds_its_visitors_in_one_query(django_capture_on_commit_callbacks):
    """A router's batch of assignments tells every chat's visitor with one query for them all, whatever its size."""
    inbox = chat_inbox()
    chats = [
        interaction_in_status(InteractionStatus.QUEUED, channel="chat", queue=inbox.queue, inbox=inbox)
        for _ in range(5)
    ]
    for n, chat in enumerate(chats):
        ContactIdentityFactory(customer=chat.customer, channel="chat", address=f"v{n}")
    batch = [{"interaction_id": chat.pk, "channel": "chat", "inbox": inbox.pk} for chat in chats]
    with CaptureQueriesContext(connection) as queries:
        publish_widget_status(
            Interaction, interaction_id=chats[0].pk, kind="assigned", from_status="queued", to_status="assigned",
            batch=batch, batch_index=0, signal=interaction_changed,
        )  # fmt: skip
    assert len(queries) == 2  # the chats, and their visitors
