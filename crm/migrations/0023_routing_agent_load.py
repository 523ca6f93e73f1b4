"""The triggers that keep each agent's routing state (``agents.AgentRouting``) in step with their work (issue 15).

Every insert, update, delete or truncate of ``crm_interaction`` that changes what an agent owns (assigned, active,
on hold, wrap-up: ``crm.choices.OWNED_STATUSES``) or when they were last assigned work changes their row in the
same statement, whatever wrote it. The router then reads loads and idle times from one indexed row per agent
instead of counting and sorting interactions per decision. ``crm.routing.services.loads`` recounts and repairs.
"""

from django.db import migrations

FUNCTIONS = """
CREATE OR REPLACE FUNCTION crm_routing_load_add(load jsonb, channel text, delta int) RETURNS jsonb AS $$
    SELECT CASE WHEN COALESCE((load ->> channel)::int, 0) + delta = 0 THEN load - channel
                ELSE jsonb_set(load, ARRAY[channel], to_jsonb(COALESCE((load ->> channel)::int, 0) + delta)) END
$$ LANGUAGE sql IMMUTABLE;

CREATE OR REPLACE FUNCTION crm_interaction_agent_routing() RETURNS trigger AS $$
DECLARE
    owned CONSTANT text[] := ARRAY['assigned', 'active', 'on_hold', 'wrap_up'];
    old_agent bigint; old_channel text; old_at timestamptz; old_owned boolean := false;
    new_agent bigint; new_channel text; new_at timestamptz; new_owned boolean := false;
    moved boolean;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        old_agent := OLD.agent_id; old_channel := OLD.channel; old_at := OLD.assigned_at;
        old_owned := OLD.agent_id IS NOT NULL AND OLD.status = ANY(owned);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        new_agent := NEW.agent_id; new_channel := NEW.channel; new_at := NEW.assigned_at;
        new_owned := NEW.agent_id IS NOT NULL AND NEW.status = ANY(owned);
    END IF;
    moved := old_agent IS DISTINCT FROM new_agent OR old_at IS DISTINCT FROM new_at;
    -- e.g. accepted, on hold, wrap-up, resolved -> closed: the same agent owns it (or not) as before
    IF NOT moved AND old_owned = new_owned AND old_channel IS NOT DISTINCT FROM new_channel THEN
        RETURN NULL;
    END IF;
    -- two agents' rows: locked in id order, so two crossed transfers wait for each other instead of deadlocking
    IF old_agent IS NOT NULL AND new_agent IS NOT NULL AND old_agent <> new_agent THEN
        PERFORM 1 FROM agents_agentrouting WHERE agent_id IN (old_agent, new_agent) ORDER BY agent_id FOR UPDATE;
    END IF;
    IF old_agent IS NOT NULL AND (old_owned OR (moved AND old_at IS NOT NULL)) THEN
        UPDATE agents_agentrouting r SET
            load = CASE WHEN old_owned THEN crm_routing_load_add(r.load, old_channel, -1) ELSE r.load END,
            -- the latest assignment left this agent: their latest is now the latest of what they still have
            -- (an AFTER trigger sees the whole statement's changes)
            last_assigned_at = CASE
                WHEN moved AND old_at IS NOT NULL AND (r.last_assigned_at IS NULL OR old_at >= r.last_assigned_at)
                THEN (SELECT max(i.assigned_at) FROM crm_interaction i
                      WHERE i.agent_id = old_agent AND i.assigned_at IS NOT NULL)
                ELSE r.last_assigned_at END
        WHERE r.agent_id = old_agent;
    END IF;
    IF new_agent IS NOT NULL AND (new_owned OR (moved AND new_at IS NOT NULL)) THEN
        UPDATE agents_agentrouting r SET
            load = CASE WHEN new_owned THEN crm_routing_load_add(r.load, new_channel, 1) ELSE r.load END,
            last_assigned_at = CASE WHEN new_at > r.last_assigned_at OR r.last_assigned_at IS NULL
                               THEN COALESCE(new_at, r.last_assigned_at) ELSE r.last_assigned_at END
        WHERE r.agent_id = new_agent AND (new_owned OR r.last_assigned_at IS NULL OR new_at > r.last_assigned_at);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION crm_interaction_routing_truncated() RETURNS trigger AS $$
BEGIN
    UPDATE agents_agentrouting SET load = '{}', last_assigned_at = NULL
    WHERE load <> '{}' OR last_assigned_at IS NOT NULL;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER crm_interaction_routing_insert AFTER INSERT ON crm_interaction
    FOR EACH ROW WHEN (NEW.agent_id IS NOT NULL) EXECUTE FUNCTION crm_interaction_agent_routing();
CREATE TRIGGER crm_interaction_routing_update AFTER UPDATE OF status, agent_id, channel, assigned_at ON crm_interaction
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.agent_id IS DISTINCT FROM NEW.agent_id
                       OR OLD.channel IS DISTINCT FROM NEW.channel OR OLD.assigned_at IS DISTINCT FROM NEW.assigned_at)
    EXECUTE FUNCTION crm_interaction_agent_routing();
CREATE TRIGGER crm_interaction_routing_delete AFTER DELETE ON crm_interaction
    FOR EACH ROW WHEN (OLD.agent_id IS NOT NULL) EXECUTE FUNCTION crm_interaction_agent_routing();
CREATE TRIGGER crm_interaction_routing_truncate AFTER TRUNCATE ON crm_interaction
    FOR EACH STATEMENT EXECUTE FUNCTION crm_interaction_routing_truncated();
"""
DROP_FUNCTIONS = """
DROP TRIGGER IF EXISTS crm_interaction_routing_insert ON crm_interaction;
DROP TRIGGER IF EXISTS crm_interaction_routing_update ON crm_interaction;
DROP TRIGGER IF EXISTS crm_interaction_routing_delete ON crm_interaction;
DROP TRIGGER IF EXISTS crm_interaction_routing_truncate ON crm_interaction;
DROP FUNCTION IF EXISTS crm_interaction_agent_routing();
DROP FUNCTION IF EXISTS crm_interaction_routing_truncated();
DROP FUNCTION IF EXISTS crm_routing_load_add(jsonb, text, int);
"""
# The state of the work there is now (the recount of ``crm.routing.services.loads``, as of this migration).
BACKFILL = """
UPDATE agents_agentrouting r SET
    load = COALESCE((SELECT jsonb_object_agg(c.channel, c.n) FROM (
        SELECT i.channel, count(*) AS n FROM crm_interaction i
        WHERE i.agent_id = r.agent_id AND i.status IN ('assigned', 'active', 'on_hold', 'wrap_up')
        GROUP BY i.channel) c), '{}'),
    last_assigned_at = (SELECT max(i.assigned_at) FROM crm_interaction i
                        WHERE i.agent_id = r.agent_id AND i.assigned_at IS NOT NULL);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0022_verbose_names"),
        ("agents", "0010_agent_routing"),
    ]

    operations = [
        migrations.RunSQL(FUNCTIONS, DROP_FUNCTIONS),
        migrations.RunSQL(BACKFILL, migrations.RunSQL.noop),
    ]
