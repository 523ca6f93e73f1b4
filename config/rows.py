"""``rows_insert``: append rows of one model in one plain ``INSERT … VALUES … RETURNING id``, for the hot paths
(``row_save_new``: one new row with ``save``'s signals; ``row_save_fields``: ``save(update_fields=…)``, its UPDATE
built once per model and field list).

What ``bulk_create`` writes (the same columns, ``pre_save`` stamps, value preparation and column defaults), without
its machinery: on an API create, building the audit entries' and the events' two bulk INSERTs cost more CPU than
PostgreSQL spent running them. Like ``bulk_create`` it sends no signals; use it only for append-only rows that no
receiver watches (logs, events).

More than a few rows (``VALUES_MAX_ROWS``) go as ``INSERT … SELECT * FROM UNNEST(%s::type[], …)``, one array per
column, as Django's own ``bulk_create`` does on PostgreSQL since 5.2: the statement's text is the same for any number of rows, so psycopg
converts it once (a router's 100-row INSERT of ``VALUES`` was parsed afresh each time, about 5 % of its CPU) and
PostgreSQL plans it cheaply. Django's conditions apply: a column default left to the database, or a column type
UNNEST cannot take (an array column), keeps the ``VALUES`` form.
"""

from collections.abc import Sequence
from functools import cache

from django.core.exceptions import FieldDoesNotExist
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, router, transaction
from django.db.models import Model
from django.db.models.expressions import DatabaseDefault
from django.db.models.signals import post_save, pre_save

# Up to this many rows go as ``VALUES``: psycopg dumps a few scalars for less CPU than one array per column (an API
# create's two events and two audit entries: 0.49 -> 0.33 ms for both INSERTs, measured; even at 8 rows the arrays win)
VALUES_MAX_ROWS = 4


@cache
def _layout(model: type[Model], alias: str) -> tuple[tuple, str, tuple[str, ...] | None]:
    """The model's inserted fields, the statement's head, and each column's array type for UNNEST (None: the
    ``VALUES`` form only, as ``bulk_create`` decides for the same fields)."""
    connection = connections[alias]
    qn = connection.ops.quote_name
    meta = model._meta
    fields = tuple(f for f in meta.concrete_fields if not f.generated and f is not meta.pk)
    head = f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) "  # noqa: S608
    unnestable = not any(hasattr(f, "get_placeholder_sql") for f in fields) and all(
        (f.target_field if f.is_relation else f).get_internal_type() in connection.data_types for f in fields
    )
    # without the type's parameters (varchar[], not varchar(50)[]): no truncation, as Django's own
    types = tuple(f.db_type(connection).split("(")[0] for f in fields) if unnestable else None
    return fields, head, types


def rows_insert_sql(
    objs: Sequence[Model], *, using: str = DEFAULT_DB_ALIAS, returning: bool = True
) -> tuple[str, list]:
    """The statement ``rows_insert`` runs for ``objs`` (with ``RETURNING`` the primary key, or none), unexecuted: to
    send it with another in one round trip (``WITH a AS (INSERT …) INSERT …``)."""
    model = type(objs[0])
    connection = connections[using]
    fields, head, types = _layout(model, using)
    values = []
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="rows_insert")
        values.append([field.pre_save(obj, add=True) for field in fields])
    if (
        types is not None
        and len(objs) > VALUES_MAX_ROWS
        and not any(isinstance(v, DatabaseDefault) for row in values for v in row)
    ):
        columns = [[field.get_db_prep_save(row[i], connection) for row in values] for i, field in enumerate(fields)]
        # the types are the model's own column types, never input
        sql = f"{head}SELECT * FROM UNNEST({', '.join(f'(%s)::{t}[]' for t in types)})"  # noqa: S608
        params = columns
    else:
        rows, params = [], []
        for row in values:
            places = []
            for field, value in zip(fields, row, strict=True):
                if isinstance(value, DatabaseDefault):
                    places.append("DEFAULT")
                    continue
                places.append("%s")
                params.append(field.get_db_prep_save(value, connection))
            rows.append(f"({', '.join(places)})")
        sql = f"{head}VALUES {', '.join(rows)}"
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


def row_save_new(obj: Model) -> Model:
    """``obj.save(force_insert=True)`` for a new row of a model without parents: the same router call, the same
    ``pre_save`` / ``post_save`` signals (the audit recorder and every other receiver see what they saw), the same
    INSERT, built from ``rows_insert``'s cached layout instead of the ORM's compiler (a quarter of a create's CPU in
    its two saves). A value the layout cannot write (an expression, a database default) goes through ``save``."""
    cls = type(obj)
    meta = cls._meta
    if meta.parents or meta.proxy or meta.auto_created or obj.pk is not None or meta.pk.has_default():
        obj.save(force_insert=True)
        return obj
    obj._prepare_related_fields_for_save(operation_name="save")
    fields = _layout(cls, DEFAULT_DB_ALIAS)[0]
    if any(isinstance(value, DatabaseDefault) or hasattr(value, "resolve_expression")
           for value in (getattr(obj, field.attname) for field in fields)):  # fmt: skip
        obj.save(force_insert=True)
        return obj
    using = router.db_for_write(cls, instance=obj)
    pre_save.send(sender=cls, instance=obj, raw=False, using=using, update_fields=None)
    with transaction.mark_for_rollback_on_error(using=using):
        rows_insert([obj], using=using)
    post_save.send(sender=cls, instance=obj, created=True, update_fields=None, raw=False, using=using)
    return obj


@cache
def _update_layout(model: type[Model], names: tuple[str, ...], alias: str) -> tuple[tuple, str] | None:
    """The fields ``names`` name (names or attnames) and the UPDATE of them by primary key; None where ``save``
    must do it (a field that is not a plain column of the model's own table)."""
    meta = model._meta
    if meta.parents or meta.proxy:
        return None
    qn = connections[alias].ops.quote_name
    fields = []
    for name in names:
        try:
            field = meta.get_field(name)
        except FieldDoesNotExist:
            return None
        if not field.concrete or field.primary_key or field.generated or field.many_to_many:
            return None
        fields.append(field)
    assignments = ", ".join(f"{qn(field.column)} = %s" for field in fields)
    # names from the model's own metadata only; the values are parameters
    sql = f"UPDATE {qn(meta.db_table)} SET {assignments} WHERE {qn(meta.pk.column)} = %s"  # noqa: S608
    return tuple(fields), sql


def row_save_fields(obj: Model, fields: Sequence[str]) -> Model:
    """``obj.save(update_fields=fields)`` for a row already saved: the same router call, the same ``pre_save`` /
    ``post_save`` signals and field ``pre_save`` stamps, the same UPDATE by primary key (and the same error when it
    changes no row), from a statement built once per model and fields instead of the ORM's compiler. A value the
    statement cannot write (an expression) goes through ``save``."""
    cls = type(obj)
    names = tuple(dict.fromkeys(fields))
    layout = None if obj._state.adding or obj.pk is None else _update_layout(cls, names, DEFAULT_DB_ALIAS)
    if layout is None or any(hasattr(getattr(obj, field.attname), "resolve_expression") for field in layout[0]):
        obj.save(update_fields=names)
        return obj
    chosen, sql = layout
    obj._prepare_related_fields_for_save(operation_name="save", fields=chosen)
    using = router.db_for_write(cls, instance=obj)
    update_fields = frozenset(names)
    pre_save.send(sender=cls, instance=obj, raw=False, using=using, update_fields=update_fields)
    connection = connections[using]
    params = [field.get_db_prep_save(field.pre_save(obj, add=False), connection) for field in chosen]
    with transaction.mark_for_rollback_on_error(using=using), connection.cursor() as cursor:
        cursor.execute(sql, [*params, cls._meta.pk.get_db_prep_value(obj.pk, connection)])
        if cursor.rowcount == 0:
            raise DatabaseError("Save with update_fields did not affect any rows.")
    obj._state.db = using
    post_save.send(sender=cls, instance=obj, created=False, update_fields=update_fields, raw=False, using=using)
    return obj
