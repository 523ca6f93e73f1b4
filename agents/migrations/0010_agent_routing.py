"""Each agent's routing state (load per channel, latest assignment), kept by the database (issue 15).

The row of every agent is made by a trigger on ``agents_agent``, so agents inserted any way have one; the
triggers that keep it are ``crm 0023_routing_agent_load``'s.
"""

import django.db.models.deletion
from django.db import migrations, models

ROW_FOR_EVERY_AGENT = """
CREATE OR REPLACE FUNCTION agents_agent_routing_row() RETURNS trigger AS $$
BEGIN
    INSERT INTO agents_agentrouting (agent_id, load) VALUES (NEW.id, '{}') ON CONFLICT DO NOTHING;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER agents_agent_routing_row AFTER INSERT ON agents_agent
    FOR EACH ROW EXECUTE FUNCTION agents_agent_routing_row();
INSERT INTO agents_agentrouting (agent_id, load) SELECT id, '{}' FROM agents_agent ON CONFLICT DO NOTHING;
"""
DROP_ROW_FOR_EVERY_AGENT = """
DROP TRIGGER IF EXISTS agents_agent_routing_row ON agents_agent;
DROP FUNCTION IF EXISTS agents_agent_routing_row();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("agents", "0009_audit_entry"),
    ]

    operations = [
        migrations.CreateModel(
            name="AgentRouting",
            fields=[
                (
                    "agent",
                    models.OneToOneField(
                        editable=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="routing",
                        serialize=False,
                        to="agents.agent",
                    ),
                ),
                ("load", models.JSONField(default=dict, editable=False)),
                ("last_assigned_at", models.DateTimeField(editable=False, null=True)),
            ],
            options={
                "verbose_name": "agent routing state",
                "verbose_name_plural": "agent routing states",
            },
        ),
        migrations.RunSQL(ROW_FOR_EVERY_AGENT, DROP_ROW_FOR_EVERY_AGENT),
    ]
