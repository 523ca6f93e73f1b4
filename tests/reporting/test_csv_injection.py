"""Every report CSV opens in a spreadsheet as data: text that would be a formula starts with ', numbers stay."""

import csv
import io
from datetime import timedelta

import pytest

from tests.agents.factories import AgentFactory, TeamFactory
from tests.crm.factories import QueueFactory

from .conftest import T0, answer, handled

pytestmark = pytest.mark.django_db

EVIL = '=HYPERLINK("http://x","y")'
DAY = {"from": "2026-11-02", "to": "2026-11-03", "tz": "UTC", "format": "csv"}


@pytest.fixture
def evil(db):
    """Names, a category and a disposition typed by someone who hopes a supervisor opens the export in Excel."""
    team = TeamFactory(name="@SUM(1+1)*cmd|' /C calc'!A0")
    queue = QueueFactory(name="+cmd|' /C notepad'!A0", team=team, channels=["chat"])
    agent = AgentFactory(name=EVIL, team=team)
    one = handled(
        at=T0, wait=10, queue=queue, agent=agent, resolve_after=timedelta(minutes=5), category=EVIL,
        disposition="-2+3+cmd|' /C calc'!A0",
    )  # fmt: skip
    answer(3, "nps", one)  # a detractor only: this agent's NPS is -1.0, a real negative number
    return {"team": team, "queue": queue, "agent": agent}


def rows_of(client, url: str, **params) -> list[dict[str, str]]:
    response = client.get(url, {**DAY, **params})
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


def test_kpis_by_agent_queue_and_team_write_names_as_text_and_keep_negative_figures(evil, read_client):
    (by_agent,) = rows_of(read_client, "/api/v1/reports/kpis/", group_by="agent")
    (by_queue,) = rows_of(read_client, "/api/v1/reports/kpis/", group_by="queue")
    (by_team,) = rows_of(read_client, "/api/v1/reports/kpis/", group_by="team")

    assert by_agent["label"] == "'" + EVIL
    assert by_queue["label"] == "'+cmd|' /C notepad'!A0"
    assert by_team["label"] == "'@SUM(1+1)*cmd|' /C calc'!A0"
    assert by_agent["nps"] == "-1.0"  # a number: no quote
    assert by_agent["handled"] == "1"


def test_categories_write_category_and_disposition_as_text(evil, read_client):
    (row,) = rows_of(read_client, "/api/v1/reports/categories/")

    assert row["category"] == "'" + EVIL
    assert row["disposition"] == "'-2+3+cmd|' /C calc'!A0"
    assert row["contacts"] == "1"


def test_occupancy_writes_the_agent_name_as_text(evil, read_client):
    rows = rows_of(read_client, "/api/v1/reports/occupancy/")

    assert [row["name"] for row in rows] == ["'" + EVIL]
    assert rows[0]["agent"] == str(evil["agent"].pk)
