"""A prepared statement with a generic plan, for a hot statement whose planning costs as much as its running.

Django sends every statement with client-side binding (the values written into the SQL text), so PostgreSQL parses
and plans each one afresh. ``generic_plan()`` runs the statements of its block with server-side binding, prepared
once per database connection (psycopg keeps the names, up to ``prepare_max`` per connection), and has PostgreSQL use
one generic plan for them for the rest of the transaction (``SET LOCAL plan_cache_mode``: one more statement).
PostgreSQL's own choice keeps planning afresh (custom plans) for these queries, its estimate of the generic plan
being pessimistic.

Measure before using it: a generic plan ignores the values, and for some statements it is far worse (the router's
claim of waiting work took 300 ms instead of 1 with one). Only for statements whose SQL text is the same from call to
call (values as parameters) and whose parameters PostgreSQL can type (cast them where it cannot). Behind a pooler in
transaction mode, prepared statements need PgBouncer 1.21 or later (``max_prepared_statements``).

``prepared()`` prepares the statements of its block, once per connection, without changing the plan setting: for a
hot statement run on its own (no transaction needed), such as the import receipt's ``INSERT`` (``crm.inboxes.services
.receipts``), whose values then go apart from the SQL text too (bytes as binary, where client-side binding writes
them into the text as a hex literal twice their size for PostgreSQL to parse back).
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.postgresql.base import ServerBindingCursor

# Django turns psycopg's automatic preparing off (``prepare_threshold=None``), and psycopg then prepares nothing, even
# when asked. A threshold no statement reaches keeps it off for every other statement (Django's own cursors bind
# client-side and are never prepared anyway) while the ones asked for here are.
ONLY_WHEN_ASKED = 2**31


class PreparingCursor(ServerBindingCursor):
    """Django's server-binding cursor, preparing every statement it runs."""

    def execute(self, query, params=None, *, prepare=None, binary=None):
        return super().execute(query, params, prepare=True, binary=binary)

    def _send_query_prepared(self, name, pgq, *, binary=None):
        super()._send_query_prepared(name, pgq, binary=binary)
        # psycopg keeps the statement it ran for Django's query log (``last_executed_query``: the SQL with its ``$n``
        # placeholders) only when it is not prepared; without this, a prepared one is logged as "QUERY = … - PARAMS
        # = …" (psycopg's private method, pinned with psycopg in requirements.txt; tests/test_prepared.py reads it)
        self._query = pgq


@contextmanager
def prepared(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """The cursors opened in the block prepare their statements, once per connection.

    For a statement without parameters (its values written into the text as literals, from code and settings only),
    PostgreSQL keeps the one plan it makes, which is the plan it would make each time: the planning is saved and
    nothing else changes. Statements with parameters get PostgreSQL's own choice (see ``generic_plan``).
    """
    with _cursors(PreparingCursor, using) as raw:
        if raw.prepare_threshold is None:
            raw.prepare_threshold = ONLY_WHEN_ASKED
        yield


@contextmanager
def _cursors(factory: type, using: str):
    """The connection's cursors made by ``factory`` in the block; the psycopg connection is yielded."""
    connection = connections[using]
    connection.ensure_connection()
    raw = connection.connection
    previous = raw.cursor_factory
    raw.cursor_factory = factory
    try:
        yield raw
    finally:
        raw.cursor_factory = previous


@contextmanager
def generic_plan(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Inside a transaction: the cursors opened in the block prepare their statements, planned once (see above)."""
    connection = connections[using]
    if not connection.in_atomic_block:
        raise RuntimeError("generic_plan() needs a transaction: its plan setting is the transaction's.")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
    with prepared(using):
        yield
