"""Bulk-writing helpers of the demo writer: PostgreSQL COPY, and ``auto_now`` switched off for replayed history."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, models


@contextmanager
def timestamps_as_given(*model_classes: type[models.Model]) -> Iterator[None]:
    """Let bulk inserts keep the historical ``created_at`` / ``updated_at`` values the plan computed.

    ``auto_now`` and ``auto_now_add`` overwrite any value with the current time when a row is saved; a
    replayed history needs its own times. Switched off only inside the block, and always restored.
    """
    fields = [
        f
        for model in model_classes
        for f in model._meta.concrete_fields
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]
    saved = [(f, f.auto_now, f.auto_now_add) for f in fields]
    for f in fields:
        f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


# PostgreSQL type names psycopg's COPY understands, for Django's column types
COPY_TYPES = {
    "varchar": "text",
    "timestamp with time zone": "timestamptz",
    "bigint": "int8",
    "integer": "int4",
    "smallint": "int2",
}


def copy_rows(model: type[models.Model], columns: list[str], rows: list[tuple]) -> None:
    """Insert ``rows`` with PostgreSQL's COPY: for the big history tables, several times faster than bulk_create
    (no SQL to build and parse). Values go in as given: no ``auto_now``, no defaults, no signals."""
    by_column = {f.attname: f for f in model._meta.concrete_fields}
    types = []
    for column in columns:
        db_type = by_column[column].db_type(connection)
        types.append("text[]" if db_type.endswith("[]") else COPY_TYPES.get(db_type.split("(")[0], db_type))
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            copy.set_types(types)
            for row in rows:
                copy.write_row(row)
