"""Reporting's own tables: the hourly KPI rollup and its refresh watermark."""

from django.db import models


class KpiHour(models.Model):
    """Additive KPI figures of the interactions created in one UTC hour, per queue and channel.

    Maintained by ``reporting.rollups.kpi_rollup_refresh`` (Celery beat, every minute): the hours before the
    watermark's hour hold exactly what a raw recompute at the watermark's time gives, so a report over whole
    hours adds rows here instead of scanning interactions (``reporting.selectors.kpi_rows``). Counts and sums
    only: averages and rates are divided out when read, so hours add up into days, weeks and queues.
    ``team_id`` is the queue's team when the hour was computed. No foreign keys: a deleted queue must not
    block, nor cascade into, history.
    """

    bucket = models.DateTimeField(help_text="start of the UTC hour the interactions were created in")
    queue_id = models.BigIntegerField(null=True)
    team_id = models.BigIntegerField(null=True)
    channel = models.CharField(max_length=16)

    offered = models.IntegerField(default=0)
    handled = models.IntegerField(default=0)
    abandoned = models.IntegerField(default=0)
    answered_in_time = models.IntegerField(default=0)
    wait_seconds = models.FloatField(default=0)
    handle_count = models.IntegerField(default=0)
    handle_seconds = models.FloatField(default=0)
    resolved = models.IntegerField(default=0)
    resolved_first_time = models.IntegerField(default=0)
    transferred = models.IntegerField(default=0)
    with_due = models.IntegerField(default=0)
    breached = models.IntegerField(default=0)
    first_response_count = models.IntegerField(default=0)
    first_response_seconds_sum = models.FloatField(default=0)
    csat_responses = models.IntegerField(default=0)
    csat_satisfied = models.IntegerField(default=0)
    nps_responses = models.IntegerField(default=0)
    nps_promoters = models.IntegerField(default=0)
    nps_detractors = models.IntegerField(default=0)
    ces_responses = models.IntegerField(default=0)
    ces_sum = models.IntegerField(default=0)

    class Meta:
        verbose_name = "KPI hour"
        constraints = [
            models.UniqueConstraint(
                fields=["bucket", "queue_id", "channel"], name="kpihour_bucket_queue_channel", nulls_distinct=False
            ),
        ]

    def __str__(self) -> str:
        return f"{self.bucket:%Y-%m-%d %H:00} queue {self.queue_id} {self.channel}: {self.offered} offered"


class KpiRollupState(models.Model):
    """The rollup's watermark (one row): ``refreshed_at`` is the instant of the last refresh; every hour before
    its hour is in ``KpiHour`` as of that instant."""

    refreshed_at = models.DateTimeField()

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="kpirollupstate_single_row")]

    def __str__(self) -> str:
        return f"KPI rollup refreshed at {self.refreshed_at:%Y-%m-%d %H:%M:%S}"


class KpiHourAgent(models.Model):
    """The same additive figures as ``KpiHour``, per UTC hour, queue, channel **and agent**: the rollup that serves
    agents' own figures, team-scoped supervisors and keys, and any report filtered or grouped by agent.

    Maintained by ``reporting.rollups_people.kpi_people_refresh`` beside ``KpiHour`` (same beat task, same dirty
    hours). No team column: a viewer's teams are matched through the small queue and agent tables when read, so a
    queue or agent moving to another team changes history exactly as a raw recompute would. ``agent_id`` is null
    for work no agent answered. No foreign keys, as for ``KpiHour``.
    """

    bucket = models.DateTimeField(help_text="start of the UTC hour the interactions were created in")
    queue_id = models.BigIntegerField(null=True)
    agent_id = models.BigIntegerField(null=True)
    channel = models.CharField(max_length=16)

    offered = models.IntegerField(default=0)
    handled = models.IntegerField(default=0)
    abandoned = models.IntegerField(default=0)
    answered_in_time = models.IntegerField(default=0)
    wait_seconds = models.FloatField(default=0)
    handle_count = models.IntegerField(default=0)
    handle_seconds = models.FloatField(default=0)
    resolved = models.IntegerField(default=0)
    resolved_first_time = models.IntegerField(default=0)
    transferred = models.IntegerField(default=0)
    with_due = models.IntegerField(default=0)
    breached = models.IntegerField(default=0)
    first_response_count = models.IntegerField(default=0)
    first_response_seconds_sum = models.FloatField(default=0)
    csat_responses = models.IntegerField(default=0)
    csat_satisfied = models.IntegerField(default=0)
    nps_responses = models.IntegerField(default=0)
    nps_promoters = models.IntegerField(default=0)
    nps_detractors = models.IntegerField(default=0)
    ces_responses = models.IntegerField(default=0)
    ces_sum = models.IntegerField(default=0)

    class Meta:
        verbose_name = "KPI hour per agent"
        constraints = [
            models.UniqueConstraint(
                fields=["bucket", "queue_id", "channel", "agent_id"],
                name="kpihouragent_bucket_queue_channel_agent",
                nulls_distinct=False,
            ),
        ]
        indexes = [
            # an agent's own figures and a team's agents: by agent, then the range
            models.Index(fields=["agent_id", "bucket"], name="kpihouragent_agent_bucket"),
            # a team's queues
            models.Index(fields=["queue_id", "bucket"], name="kpihouragent_queue_bucket"),
        ]

    def __str__(self) -> str:
        return f"{self.bucket:%Y-%m-%d %H:00} queue {self.queue_id} agent {self.agent_id} {self.channel}"


class KpiPeopleRollupState(models.Model):
    """The per-agent rollup's watermark (one row), as ``KpiRollupState`` is the hourly rollup's."""

    refreshed_at = models.DateTimeField()

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="kpipeoplerollupstate_single_row")]

    def __str__(self) -> str:
        return f"KPI per-agent rollup refreshed at {self.refreshed_at:%Y-%m-%d %H:%M:%S}"
