"""The per-agent rollup gives agents, team-scoped supervisors and team-bound keys exactly what a raw recompute
gives: after a first and an incremental refresh, and when an agent or a queue moves to another team."""

from datetime import timedelta

import pytest

from agents.access import Viewer
from reporting.models import KpiHourAgent
from reporting.rollups_people import kpi_people_refresh, people_plan
from reporting.selectors import GROUP_BY, KpiQuery, kpi_rows
from reporting.tasks import kpi_rollup_refresh_task
from tests.agents.factories import TeamFactory
from tests.crm.factories import InteractionFactory, QueueFactory, SurveyFactory, SurveyResponseFactory

from .conftest import DAY_END, DAY_START, T0
from .test_rollups import NOW

pytestmark = pytest.mark.django_db


def viewers(day) -> dict[str, Viewer]:
    team = frozenset({day["team"].pk})
    return {
        "agent": Viewer(unrestricted=False, team_ids=team, agent_id=day["agent"].pk, user_id=1),
        "other agent": Viewer(unrestricted=False, team_ids=team, agent_id=day["other"].pk, user_id=2),
        "supervisor": Viewer(unrestricted=False, team_ids=team, is_supervisor=True, user_id=3),
        "team key": Viewer(unrestricted=False, team_ids=team, api_key_id=1),
        "other team's key": Viewer(unrestricted=False, team_ids=frozenset({TeamFactory().pk}), api_key_id=2),
        "staff": Viewer(unrestricted=True, team_ids=frozenset()),
    }


def both(viewer, query, now):
    return kpi_rows(viewer=viewer, query=query, now=now), kpi_rows(
        viewer=viewer, query=query, now=now, use_rollup=False
    )


def test_every_viewer_and_grouping_of_the_hand_built_day_matches_raw(day):
    kpi_people_refresh(now=NOW)

    # 5 hours of the day, one (queue, channel, agent) each, + the 4 contacts around it
    assert KpiHourAgent.objects.count() == 9
    for name, viewer in viewers(day).items():
        for group_by in (g for g in GROUP_BY if g != "inbox"):  # by inbox: read raw (no rollup column)
            query = KpiQuery(DAY_START, DAY_END, group_by)
            assert people_plan(query=query) is not None
            rolled, raw = both(viewer, query, NOW)
            assert rolled == raw, (name, group_by)
    ada = kpi_rows(viewer=viewers(day)["agent"], query=KpiQuery(DAY_START, DAY_END), now=NOW)[0]
    assert (ada["offered"], ada["handled"], ada["transfer_rate"]) == (3, 3, 0.3333)  # A, D, E; D transferred
    assert (
        kpi_rows(viewer=viewers(day)["other team's key"], query=KpiQuery(DAY_START, DAY_END), now=NOW)[0]["offered"]
        == 0
    )


def test_a_filtered_agent_report_of_staff_uses_the_people_rollup(day):
    kpi_people_refresh(now=NOW)
    staff = viewers(day)["staff"]
    for query in (
        KpiQuery(DAY_START, DAY_END, "agent"),
        KpiQuery(DAY_START, DAY_END, "day", agent=day["other"].pk),
        KpiQuery(DAY_START, DAY_END, "channel", team=day["team"].pk, agent=day["agent"].pk),
    ):
        rolled, raw = both(staff, query, NOW)
        assert rolled == raw, query
    rows = {row["label"]: row["offered"] for row in kpi_rows(viewer=staff, query=KpiQuery(DAY_START, DAY_END, "agent"))}
    assert rows == {"Ada": 3, "Bob": 1, "(none)": 1}  # C was abandoned before anyone answered


def test_late_changes_to_an_hour_are_rolled_again_by_the_beat_task(day, settings):
    kpi_people_refresh(now=NOW)
    later = NOW + timedelta(hours=1)
    agent = viewers(day)["agent"]
    before = kpi_rows(viewer=agent, query=KpiQuery(DAY_START, DAY_END), now=later)[0]
    # a late CES answer on Ada's E: only the hour of E changes, and the next refresh must see it
    SurveyResponseFactory(survey=SurveyFactory(interaction=day["e"], kind="ces"), score=7, answered_at=later)
    stale = kpi_rows(viewer=agent, query=KpiQuery(DAY_START, DAY_END), now=later)[0]
    assert stale["ces_responses"] == before["ces_responses"] == 1  # not refreshed yet: the rollup still has 2 only

    state = KpiHourAgent.objects.count()
    kpi_rollup_refresh_task()  # the beat task refreshes both rollups up to the real now
    assert KpiHourAgent.objects.count() == state
    rolled, raw = both(agent, KpiQuery(DAY_START, DAY_END), later)
    assert rolled == raw
    assert (rolled[0]["ces_responses"], rolled[0]["ces"]) == (2, 4.5)  # (2 + 7) / 2


def test_moving_an_agent_or_a_queue_to_another_team_reads_as_raw_does(day):
    supervisor = viewers(day)["supervisor"]
    elsewhere = TeamFactory()
    # a queue of another team, with work of Ada's: the supervisor sees it through Ada
    foreign = QueueFactory(team=elsewhere)
    InteractionFactory(queue=foreign, agent=day["agent"], created_at=T0 + timedelta(hours=5), status="queued")
    kpi_people_refresh(now=NOW)
    # Bob leaves the team (no refresh after): his B stays visible only because its queue is still the team's
    day["other"].team = elsewhere
    day["other"].save(update_fields=["team"])
    for group_by in ("total", "team", "agent", "queue"):
        rolled, raw = both(supervisor, KpiQuery(DAY_START, DAY_END, group_by), NOW)
        assert rolled == raw, group_by
    # the queue itself moves: the team's figures follow it at once, with no refresh
    day["queue"].team = elsewhere
    day["queue"].save(update_fields=["team"])
    for group_by in ("total", "team"):
        rolled, raw = both(supervisor, KpiQuery(DAY_START, DAY_END, group_by), NOW)
        assert rolled == raw, group_by
    assert kpi_rows(viewer=supervisor, query=KpiQuery(DAY_START, DAY_END), now=NOW)[0]["offered"] == 4  # Ada's A D E F


def test_hours_after_the_watermark_and_odd_offsets_are_read_raw(day):
    assert people_plan(query=KpiQuery(DAY_START, DAY_END)) is None  # never refreshed
    kpi_people_refresh(now=DAY_START + timedelta(hours=12, minutes=30))
    plan = people_plan(query=KpiQuery(DAY_START, DAY_END))
    assert plan.rolled.end == DAY_START + timedelta(hours=12)
    assert [edge.start for edge in plan.raw] == [DAY_START + timedelta(hours=12)]
    assert people_plan(query=KpiQuery(DAY_START, DAY_END, "hour", tz="Asia/Kolkata")) is None
    agent = viewers(day)["agent"]
    rolled, raw = both(agent, KpiQuery(DAY_START, DAY_END, "hour"), NOW)
    assert rolled == raw


def test_a_deleted_agent_or_queue_is_rolled_again_at_the_next_refresh(day):
    other_queue = QueueFactory(team=day["team"])
    InteractionFactory(queue=other_queue, agent=day["agent"], created_at=T0 + timedelta(hours=6))
    kpi_people_refresh(now=NOW)
    staff, supervisor = viewers(day)["staff"], viewers(day)["supervisor"]
    # deleting sets the interactions' column to null (SET_NULL): no event, yet the next refresh must follow
    day["other"].delete()
    other_queue.delete()
    kpi_people_refresh(now=NOW + timedelta(minutes=1))
    rolled, raw = both(staff, KpiQuery(DAY_START, DAY_END, "agent"), NOW)
    assert rolled == raw
    assert {row["label"]: row["offered"] for row in rolled} == {"Ada": 4, "(none)": 2}  # B lost Bob, C never had one
    for group_by in ("queue", "team", "total"):
        rolled, raw = both(supervisor, KpiQuery(DAY_START, DAY_END, group_by), NOW)
        assert rolled == raw, group_by


def test_the_reports_api_answers_agents_supervisors_and_team_keys_from_the_rollup(day, key_client_factory):
    from rest_framework.test import APIClient

    from tests.agents.factories import UserFactory

    from .test_api import DAY, URL

    supervisor = UserFactory()
    day["team"].supervisors.add(supervisor)
    callers = {}
    for name, user in (("agent", day["agent"].user), ("supervisor", supervisor)):
        callers[name] = APIClient()
        callers[name].force_login(user)
    callers["team key"] = key_client_factory(["read"], team=day["team"])

    def answers():
        return {
            (name, group_by): client.get(URL, {**DAY, "group_by": group_by}).json()["rows"]
            for name, client in callers.items()
            for group_by in ("total", "agent", "hour", "team")
        }

    raw = answers()  # never refreshed: read raw
    kpi_people_refresh()  # up to now: every hour of the day is rolled up
    assert people_plan(query=KpiQuery(DAY_START, DAY_END)).raw == []
    assert answers() == raw
    # and it is the rollup that answers: Ada's rolled-up rows, altered, show in every caller's report
    KpiHourAgent.objects.filter(agent_id=day["agent"].pk).update(offered=100)
    for (name, group_by), rows in answers().items():
        assert sum(row["offered"] for row in rows) > sum(row["offered"] for row in raw[(name, group_by)]), name
