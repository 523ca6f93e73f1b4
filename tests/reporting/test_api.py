"""GET /api/v1/reports/…: validation, permissions (scope, agents' own figures, supervisors' teams) and CSV."""

import csv
import io

import pytest
from rest_framework.test import APIClient

from tests.agents.factories import AgentFactory, UserFactory
from tests.crm.factories import InteractionFactory, QueueFactory

from .conftest import T0

pytestmark = pytest.mark.django_db

URL = "/api/v1/reports/kpis/"
DAY = {"from": "2026-11-02", "to": "2026-11-03", "tz": "UTC"}


def session(user):
    client = APIClient()
    client.force_login(user)
    return client


def test_read_key_gets_the_rows_with_the_documented_fields(day, read_client):
    response = read_client.get(URL, {**DAY, "group_by": "channel"})

    assert response.status_code == 200
    body = response.json()
    assert (body["from"], body["to"], body["group_by"]) == ("2026-11-02T00:00:00Z", "2026-11-03T00:00:00Z", "channel")
    chat = next(row for row in body["rows"] if row["group"] == "chat")
    for field in (
        "offered",
        "handled",
        "abandoned",
        "abandonment_rate",
        "service_level",
        "asa_seconds",
        "aht_seconds",
        "fcr",
        "transfer_rate",
        "sla_breach_rate",
        "csat",
        "nps",
        "ces",
    ):
        assert field in chat
    assert (chat["offered"], chat["abandonment_rate"]) == (4, 0.25)  # A B C D; C abandoned


def test_dates_are_read_in_the_requested_time_zone(read_client):
    InteractionFactory(created_at=T0.replace(hour=23, minute=30))  # 2 Nov 23:30 UTC = 3 Nov 00:30 in Berlin

    berlin = read_client.get(URL, {"from": "2026-11-03", "to": "2026-11-04", "tz": "Europe/Berlin"}).json()
    utc = read_client.get(URL, {"from": "2026-11-03", "to": "2026-11-04", "tz": "UTC"}).json()

    assert berlin["from"] == "2026-11-02T23:00:00Z"
    assert berlin["rows"][0]["offered"] == 1
    assert utc["rows"][0]["offered"] == 0


def test_integrators_need_the_read_scope(day, key_client_factory, api_client):
    assert key_client_factory(["write"]).get(URL, DAY).status_code == 403
    assert api_client.get(URL, DAY).status_code in (401, 403)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-11-03", "to": "2026-11-02"}, "to"),
        ({"from": "2026-11-02", "to": "2026-11-02"}, "to"),  # an empty half-open range
        ({"from": "2025-01-01", "to": "2026-11-02"}, "to"),  # more than 366 days
        ({"from": "2026-10-01", "to": "2026-11-02", "group_by": "hour"}, "group_by"),  # hourly over 31 days
        ({"group_by": "week"}, "group_by"),
        ({"tz": "Mars/Olympus"}, "tz"),
        ({"from": "yesterday"}, "from"),
        ({"channel": "pigeon"}, "channel"),
        ({"queue": "0"}, "queue"),
        ({"format": "xml"}, "format"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_parameters_are_400_with_field_messages(read_client, params, field):
    response = read_client.get(URL, params)

    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert field in response.json()


def test_csv_export_streams_the_same_rows_for_excel(day, read_client):
    response = read_client.get(URL, {**DAY, "group_by": "channel", "format": "csv"})

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")  # the byte-order mark Excel needs to read UTF-8
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert [r["group"] for r in rows] == ["chat", "email"]
    assert rows[0]["offered"] == "4" and rows[0]["abandonment_rate"] == "0.25"
    assert rows[1]["first_response_seconds"] == "1800.0"
    assert rows[0]["first_response_seconds"] == ""  # null is an empty cell


def test_csv_errors_are_still_json(read_client):
    response = read_client.get(URL, {"format": "csv", "group_by": "week"})

    assert response.status_code == 400
    assert response.json() == {"group_by": ['"week" is not a valid choice.']}


def test_an_agent_reads_only_their_own_figures(day):
    bob = session(day["other"].user)

    rows = bob.get(URL, {**DAY, "group_by": "agent"}).json()["rows"]

    assert [(r["label"], r["handled"]) for r in rows] == [("Bob", 1)]
    assert bob.get(URL, {**DAY, "agent": day["agent"].pk}).status_code == 403
    assert bob.get(URL, {**DAY, "agent": day["other"].pk}).status_code == 200


def test_a_supervisor_reads_their_teams(day):
    supervisor = UserFactory()
    day["team"].supervisors.add(supervisor)
    InteractionFactory(queue=QueueFactory(), created_at=T0)  # another team's queue

    rows = session(supervisor).get(URL, DAY).json()["rows"]

    assert rows[0]["offered"] == 5


def test_a_team_bound_key_reads_its_team(day, key_client_factory):
    InteractionFactory(queue=QueueFactory(), created_at=T0)

    assert key_client_factory(["read"], team=day["team"]).get(URL, DAY).json()["rows"][0]["offered"] == 5
    assert key_client_factory(["read"]).get(URL, DAY).json()["rows"][0]["offered"] == 6


def test_categories_endpoint(day, read_client):
    body = read_client.get("/api/v1/reports/categories/", DAY).json()

    assert body["rows"][0] == {"category": "billing", "disposition": "solved", "contacts": 2, "resolved": 2, "fcr": 0.5}
    csv_text = b"".join(read_client.get("/api/v1/reports/categories", {**DAY, "format": "csv"}).streaming_content)
    assert csv_text.decode().splitlines()[0] == "\ufeffcategory,disposition,contacts,resolved,fcr"


def test_occupancy_endpoint_limits_agents_to_themselves(db):
    me, colleague = AgentFactory(), AgentFactory()
    colleague.team = me.team
    colleague.save(update_fields=["team"])
    params = {"from": "2026-11-02", "to": "2026-11-03"}

    mine = session(me.user).get("/api/v1/reports/occupancy/", params).json()["rows"]
    supervisor = UserFactory()
    me.team.supervisors.add(supervisor)
    theirs = session(supervisor).get("/api/v1/reports/occupancy/", params).json()["rows"]

    assert [r["agent"] for r in mine] == [me.pk]
    assert {r["agent"] for r in theirs} == {me.pk, colleague.pk}
    assert session(me.user).get("/api/v1/reports/occupancy/", {"from": "2026-01-01"}).status_code == 400  # > 31 days


def test_figures_split_and_filter_by_inbox(day, read_client, key_client_factory):
    from crm.interactions.models import Interaction
    from tests.crm.inboxes.factories import InboxFactory

    site = InboxFactory(name="Website chat", queue=day["queue"], channel="chat", adapter="bridge",
                        settings={"url": "https://bridge.example.com/out", "secret": "s" * 32})  # fmt: skip
    mail = InboxFactory(name="Support mail", queue=day["queue"])
    Interaction.objects.filter(pk__in=[day["a"].pk, day["b"].pk, day["c"].pk]).update(inbox=site)
    Interaction.objects.filter(pk=day["e"].pk).update(inbox=mail)  # D came through the API: no inbox

    rows = {row["label"]: row for row in read_client.get(URL, {**DAY, "group_by": "inbox"}).json()["rows"]}

    assert {label: row["offered"] for label, row in rows.items()} == {"Website chat": 3, "Support mail": 1, "(none)": 1}
    assert rows["Website chat"]["abandonment_rate"] == 0.3333  # C abandoned
    assert rows["Website chat"]["group"] == str(site.pk)  # as queues, agents and teams: the id as text
    only_mail = read_client.get(URL, {**DAY, "inbox": mail.pk, "group_by": "channel"}).json()["rows"]
    assert [(row["group"], row["offered"]) for row in only_mail] == [("email", 1)]
    # a team-bound key of another team sees none of it, inbox filter or not
    other = key_client_factory(["read"], team=AgentFactory().team)
    assert other.get(URL, {**DAY, "inbox": site.pk}).json()["rows"][0]["offered"] in (0, None)
