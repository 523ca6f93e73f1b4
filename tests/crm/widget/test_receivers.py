"""The widget's status receiver: a chat's visitor hears of its changes; any other channel's change costs nothing."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.choices import InteractionStatus
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
