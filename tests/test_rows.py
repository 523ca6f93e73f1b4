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


def test_several_rows_go_as_one_unnest_statement_whose_text_does_not_grow_and_come_back_in_order():
    """More than a few rows: ``INSERT … SELECT * FROM UNNEST(…)``, the same text for 5 rows as for 40 (psycopg converts it
    once), the values exact (JSON, NULLs, times) and the ids in the order given."""
    from config.rows import VALUES_MAX_ROWS, rows_insert, rows_insert_sql

    interaction = InteractionFactory()
    at = timezone.now()

    def events(n):
        return [
            InteractionEvent(
                interaction=interaction,
                kind="note",
                from_status="queued",
                to_status="queued",
                at=at,
                agent=None,
                data={"n": i, "nested": {"text": "é ' \" ,{}"}},
            )
            for i in range(n)
        ]

    few, many = rows_insert_sql(events(VALUES_MAX_ROWS + 1)), rows_insert_sql(events(40))
    assert few[0] == many[0] and "UNNEST" in few[0]
    assert "UNNEST" not in rows_insert_sql(events(VALUES_MAX_ROWS))[0]  # a few rows: VALUES, cheaper to dump
    saved = rows_insert(events(40))
    stored = dict(InteractionEvent.objects.filter(kind="note").values_list("id", "data"))
    assert [stored[event.pk]["n"] for event in saved] == list(range(40))
    assert stored[saved[0].pk]["nested"] == {"text": "é ' \" ,{}"}
    assert InteractionEvent.objects.filter(kind="note", agent__isnull=True, at=at).count() == 40
