"""Reading ``timestamptz`` values with psycopg's own C loader, not through Django's Python wrapper around it.

Django's PostgreSQL backend reads every ``timestamptz`` through ``BaseTzLoader``, a Python loader that calls
psycopg's loader and then ``replace(tzinfo=...)`` with the connection's time zone. With ``USE_TZ`` on and no
``TIME_ZONE`` for the database, that zone is UTC, and Django has already set the session's ``TimeZone`` to UTC, so
psycopg's loader returns exactly the same value (aware, ``datetime.timezone.utc``) and the wrapper only adds a Python
call per value: a list page of 50 interactions reads hundreds of them, and the wrapper was a tenth of its CPU.

``install()`` (``config.apps``) puts ``UtcTimestamptzLoader`` in the adapters template Django builds its
connections from, before any connection is made. Its class attribute ``timezone`` is what Django compares when it
opens a cursor (a connection that disagrees gets Django's own loader again), and constructing it gives psycopg's
C loader itself. Nothing changes where the values would differ: without ``USE_TZ``, or with a ``TIME_ZONE`` set for
the database, Django's loader stays.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import connections
from psycopg import adapters, pq

TIMESTAMPTZ_OID = 1184


class UtcTimestamptzLoader:
    """Registered as a loader class; an instance is psycopg's own loader (its C implementation where installed)."""

    timezone = datetime.UTC  # what Django's ``create_cursor`` compares with the connection's zone
    format = pq.Format.TEXT  # the format Django reads timestamps in

    def __new__(cls, oid, context):
        return adapters.get_loader(TIMESTAMPTZ_OID, pq.Format.TEXT)(oid, context)


def install() -> bool:
    """Register the loader for each PostgreSQL database whose values are UTC; answers whether it did for any."""
    if not settings.USE_TZ:
        return False
    from django.db.backends.postgresql.psycopg_any import get_adapters_template, is_psycopg3

    if not is_psycopg3:
        return False
    installed = False
    for alias in connections:
        connection = connections[alias]
        if connection.vendor != "postgresql" or connection.settings_dict.get("TIME_ZONE") is not None:
            continue
        # the template Django builds every connection of this configuration from (cached: one for all aliases)
        get_adapters_template(True, connection.timezone).register_loader("timestamptz", UtcTimestamptzLoader)
        installed = True
    return installed
