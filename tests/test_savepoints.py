"""``config.savepoints``: a service's ``unit()`` is its own savepoint when nested, except inside a caller's
``whole_step()``, whose one savepoint takes back everything in the step when an error leaves it; the caller's
transaction goes on."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from agents.models import Team
from config.savepoints import unit, whole_step

pytestmark = pytest.mark.django_db(transaction=True)


def _savepoints(captured) -> int:
    return sum(query["sql"].startswith("SAVEPOINT") for query in captured.captured_queries)


def test_a_unit_nested_in_a_transaction_is_its_own_savepoint_and_in_a_whole_step_is_not():
    with transaction.atomic():
        with CaptureQueriesContext(connection) as alone, unit():
            Team.objects.create(name="alone")
        with CaptureQueriesContext(connection) as stepped, whole_step(), unit():
            Team.objects.create(name="in a step")

    assert _savepoints(alone) == 1
    assert _savepoints(stepped) == 1  # the step's, not the unit's
    assert set(Team.objects.values_list("name", flat=True)) == {"alone", "in a step"}


def test_an_error_inside_a_unit_rolls_the_whole_step_back_and_the_transaction_goes_on():
    with transaction.atomic():
        Team.objects.create(name="before")
        with pytest.raises(RuntimeError), whole_step():
            Team.objects.create(name="step's first write")
            with unit():
                Team.objects.create(name="the unit's write")
                raise RuntimeError("refused")
        Team.objects.create(name="after")  # the transaction is usable: the step's savepoint was rolled back

    assert set(Team.objects.values_list("name", flat=True)) == {"before", "after"}


def test_the_mark_ends_with_the_step():
    with transaction.atomic():
        with whole_step():
            pass
        with CaptureQueriesContext(connection) as captured, unit():
            Team.objects.create(name="later")
    assert _savepoints(captured) == 1
