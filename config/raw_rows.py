"""``RawRows``: model instances from our own raw SQL on a hot path, without ``RawQuerySet``'s set-up per query.

``Model.objects.raw()`` works out, on every query, which column is which field: it reads the cursor's description
(psycopg builds a column object per column), matches every column against every field, and asks the compiler for
each column's converters. For the router's claim (an interaction's 36 columns) that set-up cost more CPU than
fetching the row. Here the statement selects the model's own columns in a known order (``RawRows.columns``),
then any extra ones (``extra``: set as attributes, as ``raw()`` sets annotations), so the order and the converters
(Django's, as ``raw()`` applies them: a JSON field's ``from_db_value`` and the backend's) are worked out once
per model and database.
"""

from collections.abc import Iterable, Sequence
from functools import cache

from django.db import connections
from django.db.models import Model


class RawRows:
    """The concrete fields of ``model`` as one SELECT list, and instances built from rows that start with them."""

    def __init__(self, model: type[Model], *, table_alias: str, extra: Sequence[str] = ()) -> None:
        self.model = model
        self.fields = tuple(model._meta.concrete_fields)
        self.attnames = [field.attname for field in self.fields]
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
