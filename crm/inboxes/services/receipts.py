"""The import receipt's one statement: ``INSERT … ON CONFLICT DO NOTHING`` on (inbox, key), so that a message
delivered twice (an MTA's retry, Twilio's, two IMAP pollers) is stored once, with no savepoint and no read first.
Used by every import (the immediate e-mail import, the queued acceptance, the bridged channels).

The statement is prepared, once per database connection (``config.prepared.prepared``: bound server-side): the raw
message goes to PostgreSQL as binary bytes, where Django's default client-side binding writes it into the SQL text
as a hex literal twice its size, for PostgreSQL to parse back; and PostgreSQL plans the statement once per
connection instead of once per mail (the plan of an ``INSERT … SELECT … WHERE EXISTS`` costs about as much as the
row). Its values are the receipt's attributes as they are (psycopg adapts ``str``, ``int``, ``bytes``, a list of
``str``, an aware ``datetime`` and ``None`` itself): the receipt has no field whose value Django changes on saving
(no ``auto_now``, no custom field; ``tests/crm/inboxes/inbound/test_queued_cost.py`` reads a row back field by
field). Measured in one process, the INSERTs of 2,000 receipts one after another (``bench/email_accept_cpu.py``'s
mails), wall clock (PostgreSQL's share included) and the client's CPU:

======================================================  ============  ============
the receipt's INSERT                                    wall          client CPU
======================================================  ============  ============
client-side binding (Django's default)                  0.62 ms       0.17 ms
bound server-side, values through ``get_db_prep_save``  0.52–0.57 ms  0.15–0.18 ms
prepared, the attributes as they are                    0.37–0.38 ms  0.13 ms
the bench's bare ``INSERT`` of the raw bytes alone      0.32–0.33 ms  0.09–0.10 ms
======================================================  ============  ============
"""

from __future__ import annotations

import functools

from django.db import connection

from config.prepared import prepared

from ..models import InboundReceipt, Inbox

RECEIPT_ONCE = "inbound_receipt_once"  # the unique constraint on (inbox, key)


def insert_unless_present(receipt: InboundReceipt, *, while_token: str | None = None) -> bool:
    """INSERT the new receipt unless its (inbox, key) is taken; True (and its pk set) when it was inserted.
    ``while_token``: and only while the receipt's inbox is active with that secret token, checked by the INSERT
    itself (a caller that read the inbox from a cache that may lag a change: ``queued.email_accept``)."""
    fields, sql = _insert_statement(guarded=while_token is not None)
    values = [getattr(receipt, attname) for attname in fields]
    if while_token is not None:
        values += [receipt.inbox_id, while_token]
    with prepared(), connection.cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    if row is None:
        return False
    receipt.pk = row[0]
    receipt._state.adding, receipt._state.db = False, connection.alias
    return True


@functools.cache
def _insert_statement(*, guarded: bool = False) -> tuple[list[str], str]:
    """The receipt's fields (their attribute names) and its ``INSERT … ON CONFLICT DO NOTHING``,
    built once per process (every queued mail runs it). ``guarded``: ``INSERT … SELECT … WHERE EXISTS`` the
    receipt's inbox, active, with the token given as the last parameter (after the inbox's id)."""
    meta, quote = InboundReceipt._meta, connection.ops.quote_name
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    columns = ", ".join(quote(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    if guarded:
        inbox = Inbox._meta
        token, active = (quote(inbox.get_field(name).column) for name in ("token", "is_active"))
        values = (
            f"SELECT {placeholders} WHERE EXISTS (SELECT 1 FROM {quote(inbox.db_table)}"  # noqa: S608
            f" WHERE {quote(inbox.pk.column)} = %s AND {token} = %s AND {active})"
        )
    else:
        values = f"VALUES ({placeholders})"
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({columns}) {values}"  # noqa: S608
        f" ON CONFLICT ON CONSTRAINT {quote(RECEIPT_ONCE)} DO NOTHING RETURNING {quote(meta.pk.column)}"
    )  # (the names are the model's own)
    return [field.attname for field in fields], sql
