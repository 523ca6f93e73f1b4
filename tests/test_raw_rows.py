"""``config.raw_rows.RawRows``: instances from our own SQL equal the ORM's, field by field (JSON, arrays, dates and
foreign keys converted as ``raw()`` converts them), with the extra columns set as attributes. ``LockedRow``: the
row and its related rows equal ``select_for_update().select_related().get()``'s, and only the row is locked."""

import threading
import time

import pytest
from django.db import OperationalError, connection, transaction

from agents.models import Agent
from config.raw_rows import LockedRow, RawRows
from crm.interactions.models import Interaction
from tests.agents.factories import AgentFactory
from tests.crm.factories import InteractionFactory
from tests.crm.inboxes.factories import InboxFactory
from tests.support.threads import run_in_threads

pytestmark = pytest.mark.django_db


def _values(instance):
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


@pytest.mark.parametrize(
    ("model", "make"),
    [
        (Interaction, lambda: InteractionFactory(tags=["vip", "refund"], subject="Ünïcode ✓")),
        (Agent, lambda: AgentFactory(capacity={"chat": 3, "email": 5})),
    ],
)
def test_instances_equal_the_orms_with_the_extra_columns_as_attributes(model, make):
    made = [make(), make()]
    rows = RawRows(model, table_alias="t", extra=("doubled", "note"))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {rows.columns}, t.id * 2, 'x' FROM {model._meta.db_table} t WHERE t.id = ANY(%s) ORDER BY t.id",  # noqa: S608
            [[instance.pk for instance in made]],
        )
        built = rows.instances(cursor.fetchall(), using=connection.alias)

    expected = list(model.objects.filter(pk__in=[instance.pk for instance in made]).order_by("pk"))
    assert [_values(instance) for instance in built] == [_values(instance) for instance in expected]
    assert [(instance.doubled, instance.note) for instance in built] == [
        (instance.pk * 2, "x") for instance in expected
    ]
    assert all(not instance._state.adding and instance._state.db == connection.alias for instance in built)
    if model is Agent:
        assert built[0].capacity == {"chat": 3, "email": 5}  # a dict, as the JSON field gives it, not its text
    else:
        assert built[0].tags == ["vip", "refund"]


# LockedRow: select_for_update(of=("self",)).select_related(...).get(pk=...) from a statement built once

_LOCKED = LockedRow(Interaction, related=("queue", "agent", "inbox"))


def _orm_locked(pk):
    return Interaction.objects.select_for_update(of=("self",)).select_related("queue", "agent", "inbox").get(pk=pk)


@pytest.mark.parametrize("with_agent_and_inbox", [True, False])
def test_a_locked_row_equals_the_orms_with_its_related_rows_cached(with_agent_and_inbox, django_assert_num_queries):
    if with_agent_and_inbox:
        made = InteractionFactory(agent=AgentFactory(), inbox=InboxFactory(), tags=["vip"])
    else:
        made = InteractionFactory(agent=None, inbox=None)
    with transaction.atomic():
        with django_assert_num_queries(1):  # the related rows come with it: reading them asks nothing more
            locked = _LOCKED.get(made.pk)
            related = (locked.queue, locked.agent, locked.inbox)
        expected = _orm_locked(made.pk)
    assert _values(locked) == _values(expected)
    assert [None if row is None else _values(row) for row in related] == [
        None if row is None else _values(row) for row in (expected.queue, expected.agent, expected.inbox)
    ]
    assert (locked.agent is None, locked.inbox is None) == (not with_agent_and_inbox,) * 2


def test_a_missing_row_raises_does_not_exist():
    with transaction.atomic(), pytest.raises(Interaction.DoesNotExist):
        _LOCKED.get(-1)


@pytest.mark.django_db(transaction=True)
def test_it_locks_its_own_row_and_not_the_related_ones():
    made = InteractionFactory(agent=AgentFactory())
    locked_here, answers = threading.Event(), {}

    def other_connection():
        locked_here.wait(10)
        for table, pk in (("crm_interaction", made.pk), ("crm_queue", made.queue_id), ("agents_agent", made.agent_id)):
            try:
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute(f"SELECT id FROM {table} WHERE id = %s FOR UPDATE NOWAIT", [pk])  # noqa: S608
                answers[table] = "locked by nobody"
            except OperationalError:
                answers[table] = "locked"

    def holder():
        with transaction.atomic():
            _LOCKED.get(made.pk)
            locked_here.set()
            time.sleep(1)  # long enough for the other connection's three attempts

    assert run_in_threads(holder, other_connection) == []
    assert answers == {"crm_interaction": "locked", "crm_queue": "locked by nobody", "agents_agent": "locked by nobody"}
