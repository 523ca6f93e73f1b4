"""``config.raw_rows.RawRows``: instances from our own SQL equal the ORM's, field by field (JSON, arrays, dates and
foreign keys converted as ``raw()`` converts them), with the extra columns set as attributes."""

import pytest
from django.db import connection

from agents.models import Agent
from config.raw_rows import RawRows
from crm.interactions.models import Interaction
from tests.agents.factories import AgentFactory
from tests.crm.factories import InteractionFactory

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
