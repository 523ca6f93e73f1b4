"""``config.prepared``: ``generic_plan``'s statements are prepared once and run on a generic plan, with the same
answers as Django's own cursors; outside a transaction it refuses (its plan setting is the transaction's).
``prepared``'s statements without parameters are prepared once and keep their plan; the router's claim is one.
and send their values apart from the SQL text, bytes as binary, still logged and translated as Django's."""

import pytest
from django.db import connection, transaction

from config.prepared import generic_plan, prepared
from crm.routing.services.router import route_next
from tests.agents.factories import AgentFactory
from tests.crm.factories import InteractionFactory, QueueFactory

pytestmark = pytest.mark.django_db(transaction=True)

SQL = "SELECT id, name FROM crm_queue WHERE id = ANY(%s) AND is_active = %s ORDER BY id"


def test_a_statement_is_prepared_once_runs_on_a_generic_plan_and_answers_as_django_does():
    queues = [QueueFactory(), QueueFactory(), QueueFactory(is_active=False)]
    ids = [queue.pk for queue in queues]
    with connection.cursor() as cursor:
        cursor.execute(SQL, [ids, True])
        expected = cursor.fetchall()
    answers = []
    for _ in range(3):
        with transaction.atomic(), generic_plan(), connection.cursor() as cursor:
            cursor.execute(SQL, [ids, True])
            answers.append(cursor.fetchall())
    assert answers == [expected] * 3 and len(expected) == 2
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE %s",
            ["SELECT id, name FROM crm_queue WHERE id = ANY($1)%"],
        )
        assert cursor.fetchall() == [(3, 0)]  # one statement, prepared once, planned generically each run
        cursor.execute("SHOW plan_cache_mode")
        assert cursor.fetchone() == ("auto",)  # the setting ended with its transaction


def test_outside_a_transaction_it_refuses():
    connection.ensure_connection()
    with pytest.raises(RuntimeError, match="needs a transaction"), generic_plan():
        pass


def test_a_statement_without_parameters_is_prepared_once_and_keeps_its_one_plan():
    queues = [QueueFactory(), QueueFactory(is_active=False)]
    sql = f"SELECT id FROM crm_queue WHERE id IN ({queues[0].pk}, {queues[1].pk}) AND is_active ORDER BY id"  # noqa: S608
    answers = []
    for _ in range(3):
        with prepared(), connection.cursor() as cursor:  # no transaction needed: no setting changes
            cursor.execute(sql)
            answers.append(cursor.fetchall())
    assert answers == [[(queues[0].pk,)]] * 3
    with connection.cursor() as cursor:
        cursor.execute("SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = %s", [sql])
        assert cursor.fetchall() == [(3, 0)]  # prepared once; its plan, made with every value known, kept


def test_the_router_claims_waiting_work_with_one_prepared_statement():
    queue = QueueFactory()
    agent = AgentFactory(status="available", capacity={"chat": 5})
    interactions = [InteractionFactory(queue=queue, channel="chat") for _ in range(3)]

    assigned = [route_next() for _ in interactions]

    assert [i.pk for i in assigned] == [i.pk for i in interactions] and {i.agent_id for i in assigned} == {agent.pk}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans + custom_plans FROM pg_prepared_statements WHERE statement LIKE %s",
            ["%FOR UPDATE OF i SKIP LOCKED%"],
        )
        assert cursor.fetchall() == [(3,)]  # one claim statement, prepared once, run for each decision


def test_prepared_statements_send_values_apart_from_the_text_and_stay_djangos():
    from django.db import IntegrityError
    from django.test.utils import CaptureQueriesContext

    raw = bytes(range(256)) * 4  # every byte value, NUL included
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE test_binding (id int PRIMARY KEY, raw bytea)")
    client_side = type(connection.connection.cursor())

    with CaptureQueriesContext(connection) as captured, prepared(), connection.cursor() as cursor:
        cursor.execute("INSERT INTO test_binding VALUES (%s, %s) RETURNING raw", [1, raw])
        assert bytes(cursor.fetchone()[0]) == raw
        with pytest.raises(IntegrityError):  # psycopg's error, translated as Django's cursors translate it
            cursor.execute("INSERT INTO test_binding VALUES (%s, %s)", [1, b""])

    [logged, _] = [query["sql"] for query in captured.captured_queries]  # the query log still sees them
    assert logged == "INSERT INTO test_binding VALUES ($1, $2) RETURNING raw"  # no hex literal of the bytes
    assert type(connection.connection.cursor()) is client_side  # Django's own cursors again after the block
    with connection.cursor() as cursor:
        cursor.execute("SELECT raw FROM test_binding WHERE id = %s", [1])
        assert bytes(cursor.fetchone()[0]) == raw
