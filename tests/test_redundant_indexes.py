"""No index on the tables the hot paths write is a copy of the front of another: every create, move, message,
event, audit entry, survey and webhook delivery writes each index of its table, and a one-column foreign-key index
whose column already leads a wider index (or a unique constraint) only costs (crm 0024, agents 0011; the import
receipt, which every accepted mail writes: crm 0026)."""

import pytest
from django.db import connection

HOT_TABLES = (
    "crm_interaction",
    "crm_message",
    "crm_interactionevent",
    "crm_assignment",
    "crm_survey",
    "crm_webhookdelivery",
    "crm_inboundreceipt",
    "agents_auditentry",
    "agents_agentrouting",
)

# (table, index, covered by): a plain b-tree index whose key columns, with the same operator classes, are the
# leading columns of another full index of the same table
REDUNDANT = """
WITH idx AS (
    SELECT c.relname AS tbl, ic.relname AS name, i.indrelid, i.indisunique AS is_unique,
           i.indpred IS NULL AND i.indexprs IS NULL AS plain, am.amname AS method,
           (i.indkey::int2[])[0:i.indnkeyatts - 1] AS keys, (i.indclass::oid[])[0:i.indnkeyatts - 1] AS classes
    FROM pg_index i
    JOIN pg_class c ON c.oid = i.indrelid
    JOIN pg_class ic ON ic.oid = i.indexrelid
    JOIN pg_am am ON am.oid = ic.relam
    WHERE c.relname = ANY(%s)
)
SELECT a.tbl, a.name, b.name
FROM idx a JOIN idx b ON a.indrelid = b.indrelid AND a.name <> b.name
WHERE NOT a.is_unique AND a.plain AND b.plain AND a.method = 'btree' AND b.method = 'btree'
  AND cardinality(a.keys) <= cardinality(b.keys)
  AND b.keys[1:cardinality(a.keys)] = a.keys AND b.classes[1:cardinality(a.keys)] = a.classes
  AND (cardinality(a.keys) < cardinality(b.keys) OR b.is_unique OR a.name > b.name)
ORDER BY 1, 2
"""


@pytest.mark.django_db
def test_no_hot_table_keeps_an_index_another_one_already_covers():
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_class WHERE relname = ANY(%s) AND relkind = 'r'", [list(HOT_TABLES)])
        assert cursor.fetchone()[0] == len(HOT_TABLES)  # a renamed table would leave the check below empty
        cursor.execute(REDUNDANT, [list(HOT_TABLES)])
        redundant = cursor.fetchall()
    assert redundant == [], "\n".join(f"{table}: {index} is covered by {wider}" for table, index, wider in redundant)


@pytest.mark.django_db
def test_the_check_finds_a_copied_index():
    # the query above must see one: a foreign key's own index beside a wider one that starts with its column
    with connection.cursor() as cursor:
        cursor.execute('CREATE INDEX "copy_of_agent" ON "crm_interaction" ("agent_id")')
        cursor.execute(REDUNDANT, [["crm_interaction"]])
        found = cursor.fetchall()
    assert ("crm_interaction", "copy_of_agent", "interaction_agent_status") in found
