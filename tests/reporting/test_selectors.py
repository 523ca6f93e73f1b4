"""Each KPI on the hand-built day of ``conftest.day``, with the arithmetic in the comments."""

from datetime import UTC, datetime, timedelta

import pytest

from agents.access import Viewer
from reporting.selectors import KpiQuery, agent_occupancy, backlog_at, contacts_by_category, kpi_rows
from tests.agents.factories import AgentFactory, AgentStatusLogFactory
from tests.crm.factories import InteractionFactory, QueueFactory

from .conftest import DAY_END, DAY_START, T0

pytestmark = pytest.mark.django_db

STAFF = Viewer(unrestricted=True, team_ids=frozenset())
NOW = datetime(2026, 11, 10, tzinfo=UTC)


def total(viewer=STAFF, **kwargs):
    (row,) = kpi_rows(viewer=viewer, query=KpiQuery(start=DAY_START, end=DAY_END, **kwargs), now=NOW)
    return row


def test_volume_abandonment_and_service_level_of_the_day(day):
    row = total()

    assert row["offered"] == 5  # A B C D E; the contacts a second before and exactly at the end are not in it
    assert row["handled"] == 4  # A B D E were accepted
    assert row["abandoned"] == 1  # C
    assert row["abandonment_rate"] == 0.2  # 1 / 5
    # answered within 20 s: A (10 s), D (exactly 20 s), E (5 s); B took 30 s; C abandoned counts against it
    assert row["service_level"] == 0.6  # 3 / (4 handled + 1 abandoned)


def test_speed_of_answer_and_handle_time(day):
    row = total()

    assert row["asa_seconds"] == 16.2  # (10 + 30 + 20 + 5) / 4 = 16.25, rounded to 0.1 (half to even)
    assert row["aht_seconds"] == 266.7  # resolved A 400, B 300, E 100 (D still active): 800 / 3


def test_first_contact_resolution_ignores_repeat_contacts_on_other_categories(day):
    # resolved A, B, E; B's customer came back on billing within 7 days; E's came back, but on billing, not shipping
    assert total()["fcr"] == 0.6667  # 2 / 3


def test_fcr_window_is_configurable(day, settings):
    settings.SWITCHBOARD_FCR_DAYS = 1  # B's customer came back after 2 days: outside the window now

    assert total()["fcr"] == 1.0  # 3 / 3


def test_transfer_and_sla_breach_rates(day):
    row = total()

    assert row["transfer_rate"] == 0.25  # D was transferred: 1 of 4 handled
    # due times on A, B, E; B's first response was due at 11:01 and never came (resolved 11:20): 1 / 3
    assert row["sla_breach_rate"] == 0.3333


def test_first_response_time_counts_asynchronous_channels_only(day):
    # A (chat) answered in 30 s does not count; E (email) in 30 minutes
    assert total()["first_response_seconds"] == 1800.0


def test_survey_scores(day):
    row = total()

    assert row["csat"] == 0.6667  # 5, 3, 4: two of three are 4–5
    assert row["nps"] == 0.3333  # 10, 6, 9: promoters 2 − detractors 1 = 1, / 3
    assert row["ces"] == 3.5  # (2 + 5) / 2
    assert (row["csat_responses"], row["nps_responses"], row["ces_responses"]) == (3, 3, 2)


def test_group_by_channel_splits_the_figures(day):
    rows = {row["group"]: row for row in kpi_rows(viewer=STAFF, query=KpiQuery(DAY_START, DAY_END, "channel"), now=NOW)}

    assert set(rows) == {"chat", "email"}
    assert (rows["chat"]["offered"], rows["chat"]["handled"], rows["chat"]["abandoned"]) == (4, 3, 1)
    assert rows["chat"]["first_response_seconds"] is None  # no asynchronous contact in this group
    assert rows["email"]["service_level"] == 1.0  # E answered in 5 s: 1 / 1
    assert rows["email"]["csat"] == 1.0  # E's 4


def test_group_by_queue_agent_and_team_carry_names(day):
    by_queue = kpi_rows(viewer=STAFF, query=KpiQuery(DAY_START, DAY_END, "queue"), now=NOW)
    by_team = kpi_rows(viewer=STAFF, query=KpiQuery(DAY_START, DAY_END, "team"), now=NOW)
    by_agent = {r["label"]: r for r in kpi_rows(viewer=STAFF, query=KpiQuery(DAY_START, DAY_END, "agent"), now=NOW)}

    assert [(r["label"], r["offered"]) for r in by_queue] == [("Front", 5)]
    assert [(r["label"], r["offered"]) for r in by_team] == [("Front team", 5)]
    assert by_agent["Ada"]["handled"] == 3  # A D E
    assert by_agent["Bob"]["handled"] == 1  # B
    assert by_agent["(none)"]["abandoned"] == 1  # C never reached an agent


def test_group_by_hour_gives_one_row_per_busy_hour(day):
    rows = kpi_rows(viewer=STAFF, query=KpiQuery(DAY_START, DAY_END, "hour"), now=NOW)

    assert [r["group"] for r in rows] == [f"2026-11-02T{h}:00:00+00:00" for h in (10, 11, 12, 13, 14)]
    assert [r["offered"] for r in rows] == [1, 1, 1, 1, 1]


def test_day_grouping_follows_the_requested_time_zone(db):
    InteractionFactory(created_at=datetime(2026, 11, 2, 23, 30, tzinfo=UTC))
    start, end = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 5, tzinfo=UTC)

    utc = kpi_rows(viewer=STAFF, query=KpiQuery(start, end, "day", tz="UTC"))
    berlin = kpi_rows(viewer=STAFF, query=KpiQuery(start, end, "day", tz="Europe/Berlin"))

    assert [r["group"] for r in utc] == ["2026-11-02"]
    assert [r["group"] for r in berlin] == ["2026-11-03"]  # 23:30 UTC is 00:30 in Berlin (UTC+1 in November)


def test_no_traffic_gives_one_total_row_of_nulls(db):
    row = total()

    assert row["offered"] == 0 and row["handled"] == 0
    for name in ("abandonment_rate", "service_level", "asa_seconds", "aht_seconds", "fcr", "transfer_rate"):
        assert row[name] is None, name
    assert (row["sla_breach_rate"], row["csat"], row["nps"], row["ces"]) == (None, None, None, None)
    assert kpi_rows(viewer=STAFF, query=KpiQuery(DAY_START, DAY_END, "day")) == []


def test_all_abandoned(db):
    queue = QueueFactory()
    for minute in (0, 5):
        at = T0 + timedelta(minutes=minute)
        InteractionFactory(queue=queue, status="abandoned", created_at=at, abandoned_at=at + timedelta(seconds=40))

    row = total()

    assert (row["offered"], row["handled"], row["abandoned"]) == (2, 0, 2)
    assert row["abandonment_rate"] == 1.0
    assert row["service_level"] == 0.0  # 0 answered in time / (0 + 2)
    assert row["asa_seconds"] is None and row["aht_seconds"] is None and row["fcr"] is None


def test_filters_by_queue_channel_and_team(day):
    other_queue = QueueFactory()
    InteractionFactory(queue=other_queue, created_at=T0)

    assert total()["offered"] == 6
    assert total(queue=day["queue"].pk)["offered"] == 5
    assert total(team=day["team"].pk)["offered"] == 5
    assert total(channel="email")["offered"] == 1


def test_an_agent_sees_only_their_own_work(day):
    bob = Viewer(unrestricted=False, team_ids=frozenset({day["team"].pk}), agent_id=day["other"].pk)

    rows = kpi_rows(viewer=bob, query=KpiQuery(DAY_START, DAY_END, "agent"), now=NOW)

    assert [(r["label"], r["handled"]) for r in rows] == [("Bob", 1)]
    assert rows[0]["csat"] == 0.0  # B's 3


def test_a_supervisor_sees_their_teams_queues_only(day):
    elsewhere = QueueFactory()
    InteractionFactory(queue=elsewhere, created_at=T0)
    supervisor = Viewer(unrestricted=False, team_ids=frozenset({day["team"].pk}), is_supervisor=True)

    assert total(viewer=supervisor)["offered"] == 5
    assert total()["offered"] == 6


def test_contacts_by_category_and_disposition(day):
    rows = contacts_by_category(viewer=STAFF, query=KpiQuery(DAY_START, DAY_END))

    assert rows == [
        {"category": "billing", "disposition": "solved", "contacts": 2, "resolved": 2, "fcr": 0.5},  # A yes, B no
        {"category": "", "disposition": "", "contacts": 1, "resolved": 0, "fcr": None},  # C
        {"category": "billing", "disposition": "", "contacts": 1, "resolved": 0, "fcr": None},  # D
        {"category": "shipping", "disposition": "refund", "contacts": 1, "resolved": 1, "fcr": 1.0},  # E
    ]


def test_backlog_counts_what_was_open_at_an_instant(day):
    # 11:10: B (11:00–11:20) and the contact of 23:59:59 the day before, still queued; A was resolved at 10:10
    assert backlog_at(viewer=STAFF, at=T0 + timedelta(hours=1, minutes=10)) == 2
    assert backlog_at(viewer=STAFF, at=T0 + timedelta(hours=1, minutes=10), queue=QueueFactory().pk) == 0
    # 14:10: D (active since 13:00), E (14:00–16:00) and the queued one; C was abandoned at 12:00:50
    assert backlog_at(viewer=STAFF, at=T0 + timedelta(hours=4, minutes=10)) == 3


def test_occupancy_and_utilisation_from_the_status_log(db):
    agent = AgentFactory(name="Cleo")
    log = [
        ("offline", "available", 0),
        ("available", "busy", 60),
        ("busy", "wrap_up", 90),
        ("wrap_up", "available", 100),
        ("available", "on_break", 120),
        ("on_break", "offline", 135),
    ]
    for previous, status, minute in log:
        AgentStatusLogFactory(
            agent=agent, previous_status=previous, status=status, changed_at=T0 + timedelta(minutes=minute)
        )

    (row,) = agent_occupancy(viewer=STAFF, start=T0, end=T0 + timedelta(hours=3), now=NOW)

    # available 60 + 20 = 80 min, busy 30 + wrap-up 10 = 40 min handling, break 15 min, then offline
    assert row["handling_seconds"] == 2400.0
    assert row["available_seconds"] == 4800.0
    assert row["logged_in_seconds"] == 8100.0  # 40 + 80 + 15 minutes
    assert row["occupancy"] == 0.3333  # 40 / (40 + 80)
    assert row["utilisation"] == 0.2963  # 40 / 135


def test_occupancy_window_opens_in_the_status_held_at_its_start(db):
    agent = AgentFactory()
    AgentStatusLogFactory(agent=agent, previous_status="available", status="busy", changed_at=T0 - timedelta(hours=1))
    AgentStatusLogFactory(
        agent=agent, previous_status="busy", status="available", changed_at=T0 + timedelta(minutes=30)
    )

    (row,) = agent_occupancy(viewer=STAFF, start=T0, end=T0 + timedelta(hours=1), now=NOW)

    assert row["handling_seconds"] == 1800.0  # busy from before the window until 10:30
    assert row["occupancy"] == 0.5  # 30 / (30 + 30)


def test_occupancy_shows_an_agent_only_themselves(db):
    me, colleague = AgentFactory(), AgentFactory()
    viewer = Viewer(unrestricted=False, team_ids=frozenset({me.team_id}), agent_id=me.pk)
    colleague.team = me.team
    colleague.save(update_fields=["team"])

    rows = agent_occupancy(viewer=viewer, start=T0, end=T0 + timedelta(hours=1), now=NOW)

    assert [r["agent"] for r in rows] == [me.pk]
