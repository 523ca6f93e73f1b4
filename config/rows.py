"""``rows_insert``: append rows of one model in one plain ``INSERT … VALUES … RETURNING id``, for the hot paths.

What ``bulk_create`` writes (the same columns, ``pre_save`` stamps, value preparation and column defaults), without
its machinery: on an API create, building the audit entries' and the events' two bulk INSERTs cost more CPU than
PostgreSQL spent running them. Like ``bulk_create`` it sends no signals; use it only for append-only rows that no
receiver watches (logs, events).
"""

from collections.abc import Sequence
from functools import cache

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model
from django.db.models.expressions import DatabaseDefault


@cache
def _layout(model: type[Model], alias: str) -> tuple[tuple, str]:
    connection = connections[alias]
    qn = connection.ops.quote_name
    meta = model._meta
    fields = tuple(f for f in meta.concrete_fields if not f.generated and f is not meta.pk)
    head = f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) VALUES "  # noqa: S608
    return fields, head


def rows_insert_sql(
    objs: Sequence[Model], *, using: str = DEFAULT_DB_ALIAS, returning: bool = True
) -> tuple[str, list]:
    """The statement ``rows_insert`` runs for ``objs`` (with ``RETURNING`` the primary key, or none), unexecuted: to
    send it with another in one round trip (``WITH a AS (INSERT …) INSERT …``)."""
    model = type(objs[0])
    connection = connections[using]
    fields, head = _layout(model, using)
    rows, params = [], []
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="rows_insert")
        places = []
        for field in fields:
            value = field.pre_save(obj, add=True)
            if isinstance(value, DatabaseDefault):
                places.append("DEFAULT")
                continue
            places.append("%s")
            params.append(field.get_db_prep_save(value, connection))
        rows.append(f"({', '.join(places)})")
    sql = f"{head}{', '.join(rows)}"
    if returning:
        sql += f" RETURNING {connection.ops.quote_name(model._meta.pk.column)}"
    return sql, params


def rows_saved(objs: Sequence[Model], ids: Sequence, *, using: str = DEFAULT_DB_ALIAS) -> list[Model]:
    """Mark ``objs`` saved with the ids their ``RETURNING`` gave, in order."""
    pk = type(objs[0])._meta.pk
    for obj, value in zip(objs, ids, strict=True):
        setattr(obj, pk.attname, value)
        obj._state.adding, obj._state.db = False, using
    return list(objs)


def rows_insert(objs: Sequence[Model], *, using: str = DEFAULT_DB_ALIAS) -> list[Model]:
    """Insert ``objs`` (unsaved, all of one model) in one statement; their ids are set, in order. Answers them."""
    if not objs:
        return []
    sql, params = rows_insert_sql(objs, using=using)
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        ids = [row[0] for row in cursor.fetchall()]
    return rows_saved(objs, ids, using=using)
