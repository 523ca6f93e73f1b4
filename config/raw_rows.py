"""``RawRows``: model instances from our own raw SQL on a hot path, without ``RawQuerySet``'s set-up per query.

``Model.objects.raw()`` works out, on every query, which column is which field: it reads the cursor's description
(psycopg builds a column object per column), matches every column against every field, and asks the compiler for
each column's converters. For the router's claim (an interaction's 36 columns) that set-up cost more CPU than
fetching the row. Here the statement selects the model's own columns in a known order (``RawRows.columns``),
then any extra ones (``extra``: set as attributes, as ``raw()`` sets annotations), so the order and the converters
(Django's, as ``raw()`` applies them: a JSON field's ``from_db_value`` and the backend's) are worked out once
per model and database.

``LockedRow``: one row by primary key under its row lock, with the rows its foreign keys point at, as
``select_for_update(of=("self",)).select_related(...).get(pk=...)`` reads it, from a statement built once. Django
compiles that query anew on every call (quoting and converting every column of every joined table): for a message's
lock (an interaction with its queue, agent and inbox, about a hundred columns) the compiling cost more CPU than
PostgreSQL spent running it.
"""

from collections.abc import Iterable, Sequence
from functools import cache

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model


class RawRows:
    """The concrete fields of ``model`` as one SELECT list, and instances built from rows that start with them."""

    def __init__(self, model: type[Model], *, table_alias: str, extra: Sequence[str] = ()) -> None:
        self.model = model
        self.fields = tuple(model._meta.concrete_fields)
        self.attnames = [field.attname for field in self.fields]
        self.pk_position = self.attnames.index(model._meta.pk.attname)
        self.extra = tuple(extra)
        self.columns = ", ".join(f'{table_alias}."{field.column}"' for field in self.fields)

    def instances(self, rows: Iterable[Sequence], *, using: str) -> list[Model]:
        """An instance per row (the model's columns, then ``extra``'s), as ``raw()`` would build it."""
        connection = connections[using]
        converters = _converters(self.model, using)
        count, attnames, extra = len(self.fields), self.attnames, self.extra
        instances = []
        for row in rows:
            values = list(row[:count])
            for position, functions, expression in converters:
                value = values[position]
                for function in functions:
                    value = function(value, expression, connection)
                values[position] = value
            instance = self.model.from_db(using, attnames, values)
            for name, value in zip(extra, row[count:], strict=True):
                setattr(instance, name, value)
            instances.append(instance)
        return instances


@cache
def _converters(model: type[Model], using: str) -> list[tuple[int, list, object]]:
    """(position, converter functions, expression) of each column that has any, as ``SQLCompiler.get_converters``
    gives them for the same columns."""
    connection = connections[using]
    found = []
    for position, field in enumerate(model._meta.concrete_fields):
        expression = field.get_col(model._meta.db_table)
        functions = connection.ops.get_db_converters(expression) + expression.get_db_converters(connection)
        if functions:
            found.append((position, functions, expression))
    return found


class LockedRow:
    """``model``'s row by primary key, locked (``FOR UPDATE OF`` that row only), with the rows of its foreign keys
    ``related`` cached on it as ``select_related`` caches them (``None`` where the key is null)."""

    def __init__(self, model: type[Model], *, related: Sequence[str] = ()) -> None:
        self.model = model
        self.main = RawRows(model, table_alias="t")
        self.related = []  # (the foreign key, its model's rows)
        joins = []
        for number, name in enumerate(related):
            field = model._meta.get_field(name)
            alias = f"r{number}"
            target = field.related_model
            self.related.append((field, RawRows(target, table_alias=alias)))
            joins.append(
                f'LEFT JOIN "{target._meta.db_table}" {alias} '
                f'ON {alias}."{field.target_field.column}" = t."{field.column}"'
            )
        columns = ", ".join([self.main.columns, *(rows.columns for _, rows in self.related)])
        # names from the models' own metadata only; the key is a parameter
        self.sql = (
            f'SELECT {columns} FROM "{model._meta.db_table}" t {" ".join(joins)} '  # noqa: S608
            f'WHERE t."{model._meta.pk.column}" = %s FOR UPDATE OF t'
        )

    def get(self, pk, *, using: str = DEFAULT_DB_ALIAS) -> Model:
        """The locked instance; ``model.DoesNotExist`` when there is no such row (as ``get()``). Inside a transaction."""
        with connections[using].cursor() as cursor:
            cursor.execute(self.sql, [pk])
            row = cursor.fetchone()
        if row is None:
            raise self.model.DoesNotExist(f"{self.model._meta.object_name} matching query does not exist.")
        start = len(self.main.fields)
        (instance,) = self.main.instances([row[:start]], using=using)
        for field, rows in self.related:
            end = start + len(rows.fields)
            part = row[start:end]
            start = end
            found = part[rows.pk_position] is not None  # a LEFT JOIN: no row where the key is null
            field.set_cached_value(instance, rows.instances([part], using=using)[0] if found else None)
        return instance
