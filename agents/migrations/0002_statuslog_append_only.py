"""The presence log is evidence (occupancy, time in state): the database refuses to rewrite it."""

from django.db import migrations

SQL = """
CREATE OR REPLACE FUNCTION agents_statuslog_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'agents_agentstatuslog is append-only: rows cannot be updated'
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER agents_statuslog_no_update BEFORE UPDATE ON agents_agentstatuslog
    FOR EACH ROW EXECUTE FUNCTION agents_statuslog_append_only();
"""
REVERSE = """
DROP TRIGGER IF EXISTS agents_statuslog_no_update ON agents_agentstatuslog;
DROP FUNCTION IF EXISTS agents_statuslog_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("agents", "0001_initial")]
    operations = [migrations.RunSQL(SQL, REVERSE)]
