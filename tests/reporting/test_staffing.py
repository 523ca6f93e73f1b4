"""Erlang C against the known vector, its numerical stability, and the forecast that feeds tomorrow's table."""

from datetime import UTC, date, datetime, timedelta

import pytest

from agents.access import Viewer
from reporting.staffing import erlang_b, erlang_c, forecast_staffing, staffing_required
from tests.crm.factories import InteractionFactory, QueueFactory

STAFF = Viewer(unrestricted=True, team_ids=frozenset())


def test_erlang_c_known_vector():
    # 100 contacts per 30 minutes of 180 s each: 100 × 180 / 1800 = 10 erlangs; 80 % within 20 s; 30 % shrinkage
    result = staffing_required(
        contacts=100, interval_seconds=1800, aht_seconds=180, answer_seconds=20, target=0.8, shrinkage=0.3
    )

    assert result.traffic == 10.0
    assert result.agents == 14  # 13 fall short of 80 % (next test)
    assert result.scheduled == 20  # ceil(14 / 0.7)
    assert round(result.service_level, 3) == 0.888
    assert round(result.occupancy, 3) == 0.714  # 10 / 14
    assert round(result.probability_waiting, 3) == 0.174
    assert round(result.asa_seconds, 1) == 7.8  # 0.174 × 180 / (14 − 10)


def test_one_agent_fewer_misses_the_target():
    from reporting.staffing import service_level

    assert service_level(traffic=10, agents=13, aht_seconds=180, answer_seconds=20) < 0.8


def test_erlang_b_small_case_by_hand():
    # one agent, 1 erlang: B = A / (1 + A) = 0.5; C = 1 (the agent can never keep up)
    assert erlang_b(traffic=1.0, agents=1) == 0.5
    assert erlang_c(traffic=1.0, agents=1) == 1.0
    # two agents, 1 erlang: B(2) = 1·0.5 / (2 + 0.5) = 0.2; C = 2·0.2 / (2 − 1·0.8) = 1/3
    assert erlang_c(traffic=1.0, agents=2) == pytest.approx(1 / 3)


def test_large_centres_stay_finite():
    # 1,000 erlangs: the textbook A^n / n! would overflow a float here
    result = staffing_required(contacts=20000, interval_seconds=3600, aht_seconds=180, answer_seconds=20, target=0.9)

    assert 1000 < result.agents < 1100
    assert 0 < result.probability_waiting < 1
    assert 0.9 <= result.service_level < 1


def test_no_traffic_needs_nobody():
    result = staffing_required(contacts=0, interval_seconds=1800, aht_seconds=180, answer_seconds=20, target=0.8)

    assert (result.agents, result.scheduled, result.service_level) == (0, 0, 1.0)


@pytest.mark.parametrize(
    "kwargs",
    [{"contacts": -1}, {"aht_seconds": 0}, {"target": 1.0}, {"shrinkage": 1.0}],
)
def test_impossible_inputs_are_refused(kwargs):
    args = {"contacts": 10, "interval_seconds": 1800, "aht_seconds": 180, "answer_seconds": 20, "target": 0.8}

    with pytest.raises(ValueError):
        staffing_required(**{**args, **kwargs})


@pytest.mark.django_db
def test_forecast_averages_the_same_weekday_and_hour_of_recent_weeks():
    queue = QueueFactory(name="Phones", service_level_seconds=20, service_level_target=0.8)
    tomorrow = date(2026, 12, 2)  # a Wednesday
    # Wednesdays 1, 2 and 3 weeks before, 09:xx UTC: 4, 2 and 0 contacts (a fourth week has none) → 6 / 4 = 1.5
    for weeks_back, count in [(1, 4), (2, 2)]:
        at = datetime(2026, 12, 2, 9, 15, tzinfo=UTC) - timedelta(weeks=weeks_back)
        for _ in range(count):
            InteractionFactory(
                queue=queue,
                status="resolved",
                created_at=at,
                accepted_at=at + timedelta(seconds=5),
                resolved_at=at + timedelta(minutes=5),
                talk_seconds=240,
                wrap_up_seconds=60,
            )
    # a Tuesday and a Wednesday at another hour do not count for 09:00
    InteractionFactory(queue=queue, created_at=datetime(2026, 11, 24, 9, 15, tzinfo=UTC))
    InteractionFactory(queue=queue, created_at=datetime(2026, 11, 25, 14, 0, tzinfo=UTC))

    rows = forecast_staffing(viewer=STAFF, day=tomorrow, tz="UTC", weeks=4, shrinkage=0.3)

    by_hour = {row.hour: row for row in rows}
    assert set(by_hour) == {9, 14}
    assert by_hour[9].forecast_contacts == 1.5
    assert by_hour[14].forecast_contacts == 0.25  # 1 / 4
    assert by_hour[9].aht_seconds == 300.0  # 240 talk + 60 wrap-up of the handled ones, the queue's average
    # 1.5 contacts × 300 s / 3600 s = 0.125 erlang: one agent answers 80 % within 20 s
    assert (by_hour[9].staffing.agents, by_hour[9].staffing.scheduled) == (1, 2)  # ceil(1 / 0.7)
    assert by_hour[9].queue_name == "Phones"


@pytest.mark.django_db
def test_forecast_hours_follow_the_time_zone():
    queue = QueueFactory()
    InteractionFactory(queue=queue, created_at=datetime(2026, 11, 25, 8, 30, tzinfo=UTC))  # 09:30 in Berlin

    (row,) = forecast_staffing(viewer=STAFF, day=date(2026, 12, 2), tz="Europe/Berlin", weeks=1)

    assert row.hour == 9 and row.forecast_contacts == 1.0
