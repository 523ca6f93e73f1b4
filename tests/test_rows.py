"""``config.rows.rows_insert``: the rows ``bulk_create`` would write, in one statement, ids set in order."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.interactions.models import InteractionEvent
from tests.crm.factories import InteractionFactory

pytestmark = pytest.mark.django_db


def test_rows_are_written_in_one_statement_as_given_with_their_ids_in_order():
    interaction = InteractionFactory()
    at = timezone.now()
    events = [
        InteractionEvent(interaction=interaction, kind="created", from_status="", to_status="new", at=at, data={}),
        InteractionEvent(
            interaction=interaction, kind="queued", from_status="new", to_status="queued", at=at, data={"queue_id": 7}
        ),
    ]
    from config.rows import rows_insert

    with CaptureQueriesContext(connection) as captured:
        saved = rows_insert(events)
    assert len(captured.captured_queries) == 1
    assert saved == events and all(not e._state.adding for e in events)
    stored = list(InteractionEvent.objects.filter(interaction=interaction).order_by("id").values("id", "kind", "data"))
    assert [(row["id"], row["kind"], row["data"]) for row in stored][-2:] == [
        (events[0].pk, "created", {}),
        (events[1].pk, "queued", {"queue_id": 7}),
    ]
    assert rows_insert([]) == []
