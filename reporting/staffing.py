"""Staffing: Erlang C, and a forecast from history feeding tomorrow's staffing table.

Erlang C models a queue where callers wait (no one is turned away) for ``n`` identical agents, with Poisson
arrivals and exponential handle times. It is written out here rather than taken from a library: it is twenty
lines, and the library the issue names (pyworkforce) pulls in numpy, pandas and joblib for them.

Numerical stability: the textbook form sums ``A**k / k!`` terms, which overflow a float near 170 agents and lose
precision long before. Instead the Erlang B blocking probability is built by its recursion
``B(0) = 1, B(k) = A·B(k−1) / (k + A·B(k−1))``, every step a number in [0, 1], and Erlang C follows from it:
``C = n·B / (n − A·(1 − B))``.
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Avg, Count, F, FloatField, Q
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay

from agents.access import Viewer
from crm.routing.models import Queue

from .selectors import KpiQuery, kpi_interactions

MAX_AGENTS = 10_000


def erlang_b(*, traffic: float, agents: int) -> float:
    """Probability that a contact finds all ``agents`` busy in a loss system offered ``traffic`` erlangs."""
    if traffic < 0 or agents < 0:
        raise ValueError("traffic and agents must not be negative")
    blocking = 1.0
    for k in range(1, agents + 1):
        blocking = traffic * blocking / (k + traffic * blocking)
    return blocking


def erlang_c(*, traffic: float, agents: int) -> float:
    """Probability that a contact has to wait (Erlang C); 1 when the agents cannot keep up (``agents ≤ traffic``)."""
    if agents <= traffic:
        return 1.0
    blocking = erlang_b(traffic=traffic, agents=agents)
    return agents * blocking / (agents - traffic * (1 - blocking))


@dataclass(frozen=True)
class Staffing:
    """The answer for one interval: agents on the phones (``agents``) and scheduled (``scheduled``, with
    shrinkage), and what those agents achieve (service level, ASA in seconds, occupancy, P(wait))."""

    traffic: float
    agents: int
    scheduled: int
    service_level: float
    asa_seconds: float
    occupancy: float
    probability_waiting: float


def service_level(*, traffic: float, agents: int, aht_seconds: float, answer_seconds: float) -> float:
    """Share of contacts answered within ``answer_seconds``: ``1 − C·e^(−(n−A)·t/AHT)``."""
    if agents <= traffic:
        return 0.0
    waiting = erlang_c(traffic=traffic, agents=agents)
    return 1 - waiting * math.exp(-(agents - traffic) * answer_seconds / aht_seconds)


def staffing_required(
    *,
    contacts: float,
    interval_seconds: float,
    aht_seconds: float,
    answer_seconds: float,
    target: float,
    shrinkage: float = 0.0,
) -> Staffing:
    """The fewest agents for which Erlang C's service level reaches ``target`` (a fraction), and what they do.

    ``contacts`` arrive in ``interval_seconds`` and take ``aht_seconds`` each. ``scheduled`` is
    ``ceil(agents / (1 − shrinkage))``. No traffic needs no agents.
    """
    if contacts < 0 or interval_seconds <= 0 or aht_seconds <= 0 or answer_seconds < 0:
        raise ValueError("contacts, interval, handle time and answer time must be positive")
    if not 0 < target < 1 or not 0 <= shrinkage < 1:
        raise ValueError("target must be in (0, 1) and shrinkage in [0, 1)")
    traffic = contacts * aht_seconds / interval_seconds
    if traffic == 0:
        return Staffing(0.0, 0, 0, 1.0, 0.0, 0.0, 0.0)
    agents = max(1, math.floor(traffic) + 1)
    while (
        service_level(traffic=traffic, agents=agents, aht_seconds=aht_seconds, answer_seconds=answer_seconds) < target
    ):
        agents += 1
        if agents > MAX_AGENTS:
            raise ValueError("more agents needed than the model is meant for")
    waiting = erlang_c(traffic=traffic, agents=agents)
    return Staffing(
        traffic=traffic,
        agents=agents,
        scheduled=math.ceil(agents / (1 - shrinkage) - 1e-9),
        service_level=service_level(
            traffic=traffic, agents=agents, aht_seconds=aht_seconds, answer_seconds=answer_seconds
        ),
        asa_seconds=waiting * aht_seconds / (agents - traffic),
        occupancy=traffic / agents,
        probability_waiting=waiting,
    )


# --- forecast from history --------------------------------------------------------------------------------


@dataclass(frozen=True)
class StaffingRow:
    queue: int
    queue_name: str
    hour: int
    forecast_contacts: float
    aht_seconds: float
    staffing: Staffing


def forecast_staffing(
    *,
    viewer: Viewer,
    day: date,
    tz: str = "",
    weeks: int | None = None,
    shrinkage: float | None = None,
    queues: Iterable[int] | None = None,
) -> list[StaffingRow]:
    """Tomorrow's (or ``day``'s) staffing per queue and hour, from the same weekday and hour of recent weeks.

    Forecast volume: the average count of contacts created in that hour on that weekday over the last
    ``weeks`` weeks (SWITCHBOARD_FORECAST_WEEKS), weeks without traffic counting as zero. Forecast AHT: the
    queue's average handle time over the same weeks (all hours: one hour alone is too few contacts). Each
    queue-hour then goes through Erlang C with the queue's answer threshold and target. One grouped query for
    volume and one for AHT; hours with no history are left out (nothing forecast, nobody needed).
    """
    weeks = weeks or settings.SWITCHBOARD_FORECAST_WEEKS
    shrinkage = settings.SWITCHBOARD_SHRINKAGE if shrinkage is None else shrinkage
    zone = ZoneInfo(tz or settings.TIME_ZONE)
    start = datetime.combine(day - timedelta(weeks=weeks), time.min, tzinfo=zone)
    end = datetime.combine(day, time.min, tzinfo=zone)
    history = kpi_interactions(viewer=viewer, query=KpiQuery(start=start, end=end, tz=str(zone))).filter(
        queue__isnull=False
    )
    if queues is not None:
        history = history.filter(queue_id__in=list(queues))
    volumes = (
        history.annotate(
            weekday=ExtractIsoWeekDay("created_at", tzinfo=zone), hour=ExtractHour("created_at", tzinfo=zone)
        )
        .filter(weekday=day.isoweekday())
        .values("queue_id", "hour")
        .annotate(contacts=Count("pk"))
    )
    handle_times = dict(
        history.filter(Q(accepted_at__isnull=False, resolved_at__isnull=False))
        .values("queue_id")
        .annotate(aht=Avg(F("talk_seconds") + F("hold_seconds") + F("wrap_up_seconds"), output_field=FloatField()))
        .values_list("queue_id", "aht")
    )
    queue_info = {
        q.pk: q
        for q in Queue.objects.filter(pk__in={row["queue_id"] for row in volumes}).only(
            "name", "service_level_seconds", "service_level_target"
        )
    }
    rows = []
    for row in sorted(volumes, key=lambda r: (queue_info[r["queue_id"]].name, r["queue_id"], r["hour"])):
        queue = queue_info[row["queue_id"]]
        contacts = row["contacts"] / weeks
        aht = handle_times.get(queue.pk) or 0.0
        if aht <= 0:
            aht = 180.0  # no handled history yet: a common default rather than no answer
        rows.append(
            StaffingRow(
                queue=queue.pk,
                queue_name=queue.name,
                hour=row["hour"],
                forecast_contacts=round(contacts, 2),
                aht_seconds=round(aht, 1),
                staffing=staffing_required(
                    contacts=contacts,
                    interval_seconds=3600,
                    aht_seconds=aht,
                    answer_seconds=queue.service_level_seconds,
                    target=min(float(queue.service_level_target), 0.999),
                    shrinkage=shrinkage,
                ),
            )
        )
    return rows
