"""The hourly KPI rollup, and its per-agent sibling for agents, team viewers and agent reports, give exactly what a
raw recompute gives, after a first and an incremental refresh."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from agents.access import Viewer
from crm.interactions.models import Interaction, InteractionEvent
from crm.surveys.models import Survey, SurveyResponse
from reporting.models import KpiHour
from reporting.rollups import kpi_rollup_refresh, rollup_plan
from reporting.rollups_people import kpi_people_refresh, people_plan
from reporting.selectors import GROUP_BY, KpiQuery, kpi_rows
from tests.agents.factories import AgentFactory, TeamFactory
from tests.contacts.factories import CustomerFactory
from tests.crm.factories import QueueFactory

from .conftest import DAY_END, DAY_START, T0

pytestmark = pytest.mark.django_db

STAFF = Viewer(unrestricted=True, team_ids=frozenset())
NOW = datetime(2026, 11, 10, tzinfo=UTC)
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"]
ROLLED_GROUPS = [g for g in GROUP_BY if g not in ("agent", "inbox")]  # by inbox: read raw (no rollup column)


def both(query, now):
    return kpi_rows(viewer=STAFF, query=query, now=now), kpi_rows(viewer=STAFF, query=query, now=now, use_rollup=False)


def test_rollup_of_the_hand_built_day_matches_raw(day):
    kpi_rollup_refresh(now=NOW)

    assert KpiHour.objects.count() == 9  # 5 hours of the day (one row each) + the 4 contacts around it
    for group_by in ROLLED_GROUPS:
        query = KpiQuery(DAY_START, DAY_END, group_by)
        assert rollup_plan(viewer=STAFF, query=query) is not None
        rolled, raw = both(query, NOW)
        assert rolled == raw, group_by


def test_incremental_refresh_picks_up_changes_to_old_hours(day):
    kpi_rollup_refresh(now=NOW)
    later = NOW + timedelta(hours=1)
    # D is resolved now (an event), A's customer comes back on billing... too late for FCR (days after), and
    # E gets a late survey answer
    d = day["d"]
    d.resolved_at, d.status, d.talk_seconds = later - timedelta(minutes=10), "resolved", 50
    d.save(update_fields=["resolved_at", "status", "talk_seconds"])
    InteractionEvent.objects.create(interaction=d, kind="resolved", at=later - timedelta(minutes=10))
    survey = Survey.objects.create(interaction=day["e"], kind="ces", token="late-ces")
    SurveyResponse.objects.create(survey=survey, score=7, answered_at=later - timedelta(minutes=5))

    kpi_rollup_refresh(now=later)

    rolled, raw = both(KpiQuery(DAY_START, DAY_END), later)
    assert rolled == raw
    assert rolled[0]["aht_seconds"] == 212.5  # (400 + 300 + 50 + 100) / 4
    assert rolled[0]["ces"] == 4.67  # (2 + 5 + 7) / 3


def test_agents_and_team_viewers_are_not_read_from_the_hourly_rollup_but_the_per_agent_one(day):
    kpi_rollup_refresh(now=NOW)
    kpi_people_refresh(now=NOW)

    assert rollup_plan(viewer=STAFF, query=KpiQuery(DAY_START, DAY_END, "agent")) is None
    assert (
        rollup_plan(viewer=Viewer(unrestricted=False, team_ids=frozenset({1})), query=KpiQuery(DAY_START, DAY_END))
        is None
    )
    assert people_plan(query=KpiQuery(DAY_START, DAY_END, "agent")) is not None
    assert rollup_plan(viewer=STAFF, query=KpiQuery(DAY_START, DAY_END, "hour", tz="Asia/Kolkata")) is None
    assert people_plan(query=KpiQuery(DAY_START, DAY_END, "hour", tz="Asia/Kolkata")) is None


# --- property: random traffic, random windows ---------------------------------------------------------------

HOURS = 60

contact = st.fixed_dictionaries(
    {
        "minute": st.integers(0, HOURS * 60 - 1),
        "channel": st.sampled_from(["voice", "chat", "email"]),
        "queue": st.integers(0, 2),
        "agent": st.one_of(st.none(), st.integers(0, 2)),
        "customer": st.integers(0, 3),
        "category": st.sampled_from(["billing", "shipping"]),
        "outcome": st.sampled_from(["resolved", "resolved", "abandoned", "open"]),
        "wait": st.integers(0, 60),
        "handle": st.integers(0, 600),
        "resolve_after": st.integers(1, 3000),
        "due_after": st.one_of(st.none(), st.integers(1, 6000)),
        "transferred": st.booleans(),
        "survey": st.one_of(st.none(), st.tuples(st.sampled_from(["csat", "nps", "ces"]), st.integers(1, 7))),
    }
)
window = st.tuples(st.integers(-120, HOURS * 60 + 120), st.integers(1, HOURS * 60), st.sampled_from(GROUP_BY))


def _build(contacts, queues, customers, *, token_prefix, created_after=None, agents=None):
    base = created_after or T0
    rows = []
    for c in contacts:
        at = base + timedelta(minutes=c["minute"] if created_after is None else c["minute"] % 50)
        accepted = at + timedelta(seconds=c["wait"]) if c["outcome"] != "abandoned" else None
        rows.append(
            Interaction(
                customer=customers[c["customer"]],
                channel=c["channel"],
                queue=queues[c["queue"]],
                agent=agents[c["agent"]] if agents and accepted and c["agent"] is not None else None,
                status={"resolved": "resolved", "abandoned": "abandoned", "open": "queued"}[c["outcome"]],
                category=c["category"],
                created_at=at,
                queued_at=at,
                accepted_at=accepted,
                first_response_at=accepted,
                resolved_at=at + timedelta(seconds=c["resolve_after"]) if c["outcome"] == "resolved" else None,
                abandoned_at=at + timedelta(seconds=c["wait"]) if c["outcome"] == "abandoned" else None,
                first_response_due_at=at + timedelta(seconds=c["due_after"]) if c["due_after"] else None,
                talk_seconds=c["handle"] if accepted else 0,
            )
        )
    rows = Interaction.objects.bulk_create(rows)
    for n, (row, c) in enumerate(zip(rows, contacts, strict=True)):
        if c["transferred"] and row.accepted_at:
            InteractionEvent.objects.create(interaction=row, kind="transferred", at=row.accepted_at)
        if c["survey"] and row.resolved_at:
            kind, score = c["survey"]
            survey = Survey.objects.create(interaction=row, kind=kind, token=f"{token_prefix}-{n}")
            SurveyResponse.objects.create(survey=survey, score=score, answered_at=row.resolved_at)
    return rows


@pytest.mark.slow
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: each example rebuilds data, shrinking takes minutes
)
@given(
    first=st.lists(contact, max_size=25),
    second=st.lists(contact, max_size=8),
    windows=st.lists(window, min_size=1, max_size=4),
    tz=st.sampled_from(ZONES),
    refresh_minute=st.integers(0, HOURS * 60),
)
def test_rollup_equals_raw_recompute_over_random_windows(db, first, second, windows, tz, refresh_minute):
    with transaction.atomic():
        team, other_team = TeamFactory(), TeamFactory()
        # queue 0 has no team, 1 is the team's, 2 the other team's; agents 0 and 2 are the team's, 1 the other's
        queues = [QueueFactory(team=[None, team, other_team][i], service_level_seconds=20 + 10 * i) for i in range(3)]
        agents = [AgentFactory(team=[team, other_team, team][i]) for i in range(3)]
        customers = [CustomerFactory() for _ in range(4)]
        _build(first, queues, customers, token_prefix="a", agents=agents)
        refreshed = T0 + timedelta(minutes=refresh_minute)
        kpi_rollup_refresh(now=refreshed)
        kpi_people_refresh(now=refreshed)
        # then more contacts (they may turn earlier resolutions into repeat contacts) and an incremental refresh
        second_refresh = refreshed + timedelta(minutes=55)
        _build(second, queues, customers, token_prefix="b", created_after=refreshed, agents=agents)
        kpi_rollup_refresh(now=second_refresh)
        kpi_people_refresh(now=second_refresh)
        viewers = {
            "staff": STAFF,
            "agent": Viewer(unrestricted=False, team_ids=frozenset({team.pk}), agent_id=agents[0].pk, user_id=1),
            "supervisor": Viewer(unrestricted=False, team_ids=frozenset({team.pk}), is_supervisor=True, user_id=2),
            "team key": Viewer(unrestricted=False, team_ids=frozenset({other_team.pk}), api_key_id=1),
        }
        for start_minute, length, group_by in windows:
            start = T0 + timedelta(minutes=start_minute)
            for name, viewer in viewers.items():
                for filters in ({}, {"agent": agents[2].pk}, {"team": team.pk}):
                    query = KpiQuery(start, start + timedelta(minutes=length), group_by, tz=tz, **filters)
                    rolled = kpi_rows(viewer=viewer, query=query, now=second_refresh)
                    raw = kpi_rows(viewer=viewer, query=query, now=second_refresh, use_rollup=False)
                    plan = rollup_plan(viewer=viewer, query=query) or people_plan(query=query)
                    assert rolled == raw, (name, query, plan)
        transaction.set_rollback(True)
