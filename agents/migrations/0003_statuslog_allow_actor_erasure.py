"""Let the append-only status log forget a deleted user, and nothing else.

``AgentStatusLog.actor`` is ON DELETE SET NULL, which Django performs as an UPDATE; the trigger of 0002
refused it, so deleting (or erasing) any user who had ever changed a status failed. The one rewrite now
allowed is setting ``actor_id`` to NULL with every other column unchanged.
"""

from django.db import migrations

SQL = """
CREATE OR REPLACE FUNCTION agents_statuslog_append_only() RETURNS trigger AS $$
BEGIN
    IF OLD.actor_id IS NOT NULL AND NEW.actor_id IS NULL
       AND to_jsonb(NEW) - 'actor_id' = to_jsonb(OLD) - 'actor_id' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'agents_agentstatuslog is append-only: rows cannot be updated'
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
"""
REVERSE = """
CREATE OR REPLACE FUNCTION agents_statuslog_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'agents_agentstatuslog is append-only: rows cannot be updated'
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
"""


class Migration(migrations.Migration):
    dependencies = [("agents", "0002_statuslog_append_only")]
    operations = [migrations.RunSQL(SQL, REVERSE)]
