"""Finding the customer of an inbound address, or creating them with it, in one statement.

Every new interaction from an address asks this, so it is one round trip: a data-modifying CTE reads the identity
(with its customer) through the unique (channel, address) index and, only when there is none, inserts the identity
with a customer id drawn from the sequence (``ON CONFLICT (channel, address) DO NOTHING``) and then the customer
with that id (the identity's foreign key is checked at commit, Django makes them ``DEFERRABLE INITIALLY
DEFERRED``). A concurrent first contact from the same address waits on the unique index until the winner commits,
inserts nothing, and reads the winner's row in a second statement: one customer, whoever races.
"""

from functools import cache
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model
from django.db.models.expressions import DatabaseDefault

from ..choices import IdentityChannel
from ..models import ContactIdentity, Customer
from .identities import identity_channel_for, normalize_address

_IDENTITY_EXCLUDED = frozenset({"customer"})  # its column is the drawn customer id


@cache
def _insert_layout(model: type[Model], exclude: frozenset[str], alias: str) -> tuple[tuple[Any, str, str], ...]:
    """Per inserted field: the field, its quoted column and its typed placeholder (the same for every row)."""
    connection = connections[alias]
    qn = connection.ops.quote_name
    # typed, so that INSERT … SELECT reads a JSON or array literal as the column's type
    return tuple(
        (field, qn(field.column), f"%s::{field.db_type(connection)}")
        for field in model._meta.concrete_fields
        if not field.primary_key and field.name not in exclude
    )


def _insert_values(instance: Model, *, exclude: frozenset[str], connection) -> tuple[list[str], list[str], list]:
    """Columns, typed placeholders and parameters of ``instance`` as Django's INSERT would write them."""
    columns, placeholders, params = [], [], []
    for field, column, placeholder in _insert_layout(type(instance), exclude, connection.alias):
        value = field.pre_save(instance, add=True)  # auto_now(_add) stamps the instance, as save() would
        if isinstance(value, DatabaseDefault):
            continue  # left to the column's DEFAULT
        columns.append(column)
        placeholders.append(placeholder)
        params.append(field.get_db_prep_save(value, connection))
    return columns, placeholders, params


@cache
def _customer_columns(alias: str) -> tuple[str, ...]:
    qn = connections[alias].ops.quote_name
    return tuple(qn(field.column) for field in Customer._meta.concrete_fields)


@cache
def _customer_attnames() -> list[str]:
    return [field.attname for field in Customer._meta.concrete_fields]


@cache
def _customer_converters(alias: str) -> tuple[tuple[int, tuple], ...]:
    """Per column, the fields' own conversions from the database (JSON text to a value), as a query applies them."""
    connection = connections[alias]
    return tuple(
        (index, tuple(converters))
        for index, field in enumerate(Customer._meta.concrete_fields)
        if (converters := field.get_db_converters(connection))
    )


def _customer_from_row(values: list, *, alias: str) -> Customer:
    connection = connections[alias]
    for index, converters in _customer_converters(alias):
        for converter in converters:
            values[index] = converter(values[index], None, connection)
    return Customer.from_db(alias, _customer_attnames(), values)


def _find_or_create_sql(*, kind: str, address: str, name: str, alias: str) -> tuple[str, list]:
    connection = connections[alias]
    customer = Customer(
        name=(name or "").replace("\x00", "").strip()[:200] or address,
        email=address if kind == IdentityChannel.EMAIL else "",
        phone=address if kind == IdentityChannel.PHONE else "",
    )
    identity = ContactIdentity(channel=kind, address=address, is_primary=True)
    c_columns, c_places, c_params = _insert_values(customer, exclude=frozenset(), connection=connection)
    i_columns, i_places, i_params = _insert_values(identity, exclude=_IDENTITY_EXCLUDED, connection=connection)
    sql = _statement(tuple(c_columns), tuple(c_places), tuple(i_columns), tuple(i_places), alias)
    return sql, [kind, address, *i_params, *c_params]


@cache
def _statement(c_columns: tuple, c_places: tuple, i_columns: tuple, i_places: tuple, alias: str) -> str:
    """The statement's text, the same for every address (built once per set of written columns)."""
    qn = connections[alias].ops.quote_name
    customers, identities = qn(Customer._meta.db_table), qn(ContactIdentity._meta.db_table)
    columns = ", ".join(_customer_columns(alias))
    found_columns = ", ".join(f"c.{column}" for column in _customer_columns(alias))
    # names come from the models, values go as parameters
    return f"""
WITH found AS (
    SELECT {found_columns} FROM {identities} i JOIN {customers} c ON c.id = i.customer_id
    WHERE i.channel = %s AND i.address = %s
), fresh AS (
    SELECT nextval(pg_get_serial_sequence('{Customer._meta.db_table}', 'id')) AS id
    WHERE NOT EXISTS (SELECT 1 FROM found)
), identity AS (
    INSERT INTO {identities} (customer_id, {", ".join(i_columns)})
    SELECT fresh.id, {", ".join(i_places)} FROM fresh
    ON CONFLICT (channel, address) DO NOTHING
    RETURNING customer_id
), created AS (
    INSERT INTO {customers} (id, {", ".join(c_columns)})
    SELECT identity.customer_id, {", ".join(c_places)} FROM identity
    RETURNING {columns}
)
SELECT {columns}, false AS was_created FROM found
UNION ALL
SELECT {columns}, true AS was_created FROM created
"""  # noqa: S608


def customer_find_or_create_by_identity(*, channel: str, address: str, name: str = "") -> tuple[Customer, bool]:
    """The customer who owns ``address`` on ``channel``, created with that identity (primary) if nobody does.

    One statement; two when a concurrent first contact from the same address won the race (its customer is read
    after it committed). Safe under concurrency: the unique (channel, address) constraint decides.
    """
    kind = identity_channel_for(channel)
    normalized = normalize_address(channel=kind, address=address)
    sql, params = _find_or_create_sql(kind=kind, address=normalized, name=name, alias=DEFAULT_DB_ALIAS)
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is not None:
        # the columns in the model's order, then was_created: a plain row, not a RawQuerySet's per-row mapping
        *values, was_created = row
        return _customer_from_row(values, alias=DEFAULT_DB_ALIAS), bool(was_created)
    # lost the race: the winner's identity is committed now (we waited on its index entry), read it
    winner = (
        ContactIdentity.objects.using(DEFAULT_DB_ALIAS).select_related("customer").get(channel=kind, address=normalized)
    )
    return winner.customer, False
