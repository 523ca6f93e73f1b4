"""An index for the rollup refresh: survey answers given since the last refresh mark their hour as changed.

On a crm table, built CONCURRENTLY (no write lock on a live center) from reporting, which needs it; it is not in
crm's model state, so the lead may move it into ``crm.SurveyResponse.Meta.indexes`` when integrating.
"""

from django.db import migrations


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [("reporting", "0001_kpi_hourly_rollup"), ("crm", "0001_initial")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS reporting_surveyresponse_answered_at"
            " ON crm_surveyresponse (answered_at)",
            reverse_sql="DROP INDEX CONCURRENTLY IF EXISTS reporting_surveyresponse_answered_at",
        ),
    ]
