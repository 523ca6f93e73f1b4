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


# row_save_fields: save(update_fields=…) from a statement built once


def _signals_heard():
    from django.db.models.signals import post_save, pre_save

    from crm.interactions.models import Interaction

    heard = []

    def on_pre(sender, instance, update_fields, **kwargs):
        heard.append(("pre", instance.pk, update_fields, instance.subject))

    def on_post(sender, instance, created, update_fields, **kwargs):
        heard.append(("post", instance.pk, created, update_fields))

    pre_save.connect(on_pre, sender=Interaction, weak=False)
    post_save.connect(on_post, sender=Interaction, weak=False)
    return heard, lambda: (
        pre_save.disconnect(on_pre, sender=Interaction),
        post_save.disconnect(on_post, sender=Interaction),
    )


def test_saved_fields_are_written_as_save_writes_them_with_the_same_signals_and_stamps():
    from config.rows import row_save_fields
    from crm.interactions.models import Interaction

    ours, theirs = InteractionFactory(subject="before"), InteractionFactory(subject="before")
    stamped = {i.pk: i.updated_at for i in (ours, theirs)}
    heard, stop = _signals_heard()
    try:
        for interaction in (ours, theirs):
            interaction.subject, interaction.priority, interaction.tags = "after ✓", 4, ["vip"]
        with CaptureQueriesContext(connection) as captured:
            row_save_fields(ours, ["subject", "priority", "tags", "updated_at"])
        theirs.save(update_fields=["subject", "priority", "tags", "updated_at"])
    finally:
        stop()
    assert len(captured.captured_queries) == 1 and captured.captured_queries[0]["sql"].startswith("UPDATE")
    rows = {row["id"]: row for row in Interaction.objects.filter(pk__in=stamped).values()}
    for interaction in (ours, theirs):
        row = rows[interaction.pk]
        assert (row["subject"], row["priority"], row["tags"]) == ("after ✓", 4, ["vip"])
        assert row["updated_at"] == interaction.updated_at > stamped[interaction.pk]  # auto_now stamped, as save does
    fields = frozenset({"subject", "priority", "tags", "updated_at"})
    assert heard == [
        ("pre", ours.pk, fields, "after ✓"),
        ("post", ours.pk, False, fields),
        ("pre", theirs.pk, fields, "after ✓"),
        ("post", theirs.pk, False, fields),
    ]


def test_a_foreign_key_by_name_an_expression_and_a_vanished_row_behave_as_save():
    from django.db import DatabaseError, transaction
    from django.db.models import F

    from config.rows import row_save_fields
    from crm.interactions.models import Interaction
    from tests.agents.factories import AgentFactory

    interaction, agent = InteractionFactory(priority=2), AgentFactory()
    interaction.agent = agent
    row_save_fields(interaction, ["agent"])  # a relation by its name, as save takes it
    assert Interaction.objects.get(pk=interaction.pk).agent_id == agent.pk

    interaction.priority = F("priority") + 1  # an expression: save writes it
    row_save_fields(interaction, ["priority"])
    assert Interaction.objects.get(pk=interaction.pk).priority == 3

    Interaction.objects.filter(pk=interaction.pk).delete()
    interaction.subject = "gone"
    with transaction.atomic(), pytest.raises(DatabaseError, match="did not affect any rows"):
        row_save_fields(interaction, ["subject"])
