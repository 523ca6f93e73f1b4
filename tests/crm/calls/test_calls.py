"""Voice calls through the calls API, as a telephony platform reports them: a call that ends in the IVR, one that is
queued, offered, answered and transferred, one abandoned while waiting; the IVR report and the console from them."""

import pytest
from django.test import Client
from django.utils import timezone

from agents.choices import AgentStatus
from crm.calls.models import Call, CallOutcome
from crm.choices import InteractionEventKind, InteractionStatus
from crm.interactions.models import Interaction
from crm.routing.services.router import route_pending
from tests.agents.factories import AgentFactory, TeamFactory
from tests.crm.factories import QueueFactory
from tests.crm.inboxes.factories import InboxFactory

pytestmark = pytest.mark.django_db

S = InteractionStatus
CALLS = "/api/v1/calls/"


@pytest.fixture
def line(db):
    team = TeamFactory(name="Phones")
    queue = QueueFactory(name="Phone support", team=team, channels=["voice"])
    inbox = InboxFactory(name="Hotline", channel="voice", adapter="voice", queue=queue, settings={})
    return inbox


def _start(client, inbox, call_id="CA1", caller="+4930555000"):
    response = client.post(CALLS, {"inbox": inbox.pk, "call_id": call_id, "caller": caller}, format="json")
    assert response.status_code in (200, 201), response.content
    return response


def _event(client, call_id: int, type_: str, **data):
    return client.post(f"{CALLS}{call_id}/events/", {"type": type_, **data}, format="json")


def _available(team, name):
    return AgentFactory(name=name, team=team, status=AgentStatus.AVAILABLE, status_changed_at=timezone.now())


def test_a_call_that_ends_in_the_ivr_is_self_service_and_recorded_once(write_client, line):
    first = _start(write_client, line)
    again = _start(write_client, line)  # the platform retried

    assert (first.status_code, again.status_code) == (201, 200) and first.json()["id"] == again.json()["id"]
    call_id = first.json()["id"]
    interaction = Interaction.objects.get()
    assert (interaction.channel, interaction.status, interaction.queue_id) == ("voice", S.NEW, None)  # in the IVR
    assert interaction.customer.phone == "+4930555000"

    assert _event(write_client, call_id, "ringing").status_code == 200
    assert _event(write_client, call_id, "ivr", menu="main", choice="balance").status_code == 200
    ended = _event(write_client, call_id, "ended").json()

    assert ended["outcome"] == "self_service" and ended["interaction_status"] == S.CLOSED
    assert [(s["menu"], s["choice"]) for s in ended["ivr_path"]] == [("main", "balance")]
    interaction.refresh_from_db()
    assert interaction.status == S.CLOSED and interaction.agent_id is None


def test_a_call_is_queued_offered_answered_transferred_and_wrapped_up(write_client, line):
    other_queue = QueueFactory(name="Billing line", team=line.queue.team, channels=["voice"])
    ann, bob = _available(line.queue.team, "Ann"), _available(line.queue.team, "Bob")
    call_id = _start(write_client, line).json()["id"]
    _event(write_client, call_id, "ivr", menu="main", choice="2")

    queued = _event(write_client, call_id, "queued").json()
    assert queued["interaction_status"] == S.QUEUED
    assert route_pending() == 1  # routing offers the call to an agent with voice capacity
    interaction = Interaction.objects.get()
    first_agent = interaction.agent
    assert interaction.status == S.ASSIGNED and first_agent in (ann, bob)

    assert _event(write_client, call_id, "answered").json()["interaction_status"] == S.ACTIVE
    assert _event(write_client, call_id, "hold").json()["interaction_status"] == S.ON_HOLD
    assert _event(write_client, call_id, "resume").json()["interaction_status"] == S.ACTIVE
    moved = _event(write_client, call_id, "transferred", queue=other_queue.pk).json()
    assert moved["interaction_status"] == S.QUEUED
    assert route_pending() == 1
    interaction.refresh_from_db()
    assert interaction.queue_id == other_queue.pk and interaction.agent is not None
    _event(write_client, call_id, "answered")
    _event(write_client, call_id, "recording", url="https://recordings.example.com/RE1.mp3")
    ended = _event(write_client, call_id, "ended").json()

    assert ended["outcome"] == "answered" and ended["interaction_status"] == S.WRAP_UP  # the agent's after-call work
    assert ended["recording_url"] == "https://recordings.example.com/RE1.mp3"
    kinds = list(interaction.events.values_list("kind", flat=True))
    assert InteractionEventKind.TRANSFERRED in kinds and kinds.count(InteractionEventKind.ACCEPTED) == 2


def test_a_caller_who_hangs_up_while_waiting_is_abandoned_at_their_last_ivr_step(write_client, line):
    call_id = _start(write_client, line).json()["id"]
    _event(write_client, call_id, "ivr", menu="main", choice="1")
    _event(write_client, call_id, "ivr", menu="billing", choice="3")
    _event(write_client, call_id, "queued")

    ended = _event(write_client, call_id, "ended").json()

    assert (ended["outcome"], ended["abandoned_at_step"], ended["interaction_status"]) == (
        "abandoned",
        "billing:3",
        S.ABANDONED,
    )


def test_events_that_do_not_fit_the_call_are_refused_with_the_reason(write_client, line):
    call_id = _start(write_client, line).json()["id"]

    early = _event(write_client, call_id, "answered")
    assert early.status_code == 409 and "only a waiting or offered call" in early.json()["detail"]
    assert _event(write_client, call_id, "dialled").status_code == 400
    assert _event(write_client, call_id, "ivr", choice="1").status_code == 400  # no menu
    _event(write_client, call_id, "queued")
    late = _event(write_client, call_id, "ivr", menu="main", choice="1")
    assert late.status_code == 409 and "left the IVR" in late.json()["detail"]
    _event(write_client, call_id, "ended")
    assert _event(write_client, call_id, "hold").status_code == 409
    assert _event(write_client, call_id, "recording", url="https://recordings.example.com/x.mp3").status_code == 200
    assert write_client.post(CALLS, {"inbox": line.pk, "call_id": "CA9"}, format="json").status_code == 400


def test_another_teams_key_finds_neither_the_line_nor_its_calls(write_client, key_client_factory, line):
    call_id = _start(write_client, line).json()["id"]
    stranger = key_client_factory(["read", "write"], team=TeamFactory())

    assert (
        stranger.post(CALLS, {"inbox": line.pk, "call_id": "CA2", "caller": "+4930555111"}, format="json").status_code
        == 404
    )
    assert _event(stranger, call_id, "ended").status_code == 404
    assert Call.objects.get().outcome == CallOutcome.IN_PROGRESS


def test_the_ivr_report_counts_containment_and_abandonment_by_step(write_client, read_client, line):
    for n, (steps, queued) in enumerate([([("main", "balance")], False), ([("main", "2")], True), ([], True)]):
        call_id = _start(write_client, line, call_id=f"CA{n}", caller=f"+49305550{n:02d}").json()["id"]
        for menu, choice in steps:
            _event(write_client, call_id, "ivr", menu=menu, choice=choice)
        if queued:
            _event(write_client, call_id, "queued")
        _event(write_client, call_id, "ended")
    _start(write_client, line, call_id="CA-live", caller="+4930555099")  # still in progress: not counted

    report = read_client.get("/api/v1/reports/ivr/").json()

    assert (report["calls"], report["contained"], report["abandoned"], report["answered"]) == (3, 1, 2, 0)
    assert report["ivr_containment"] == 0.3333
    assert report["abandoned_by_step"] == [
        {"step": "(no IVR step)", "abandoned": 1},
        {"step": "main:2", "abandoned": 1},
    ]
    as_csv = read_client.get("/api/v1/reports/ivr/", {"format": "csv"})
    assert as_csv["Content-Type"].startswith("text/csv")
    text = b"".join(as_csv.streaming_content).decode("utf-8-sig")
    assert text.splitlines()[:2] == ["step,abandoned", "(no IVR step),1"]


def test_the_console_shows_the_callers_ivr_path_and_the_recording(write_client, line):
    agent = _available(line.queue.team, "Ann")
    call_id = _start(write_client, line).json()["id"]
    _event(write_client, call_id, "ivr", menu="main", choice="2")
    _event(write_client, call_id, "ivr", menu="orders", choice="late delivery")
    _event(write_client, call_id, "queued")
    route_pending()
    _event(write_client, call_id, "answered")
    _event(write_client, call_id, "recording", url="https://recordings.example.com/RE7.mp3")
    client = Client()
    client.force_login(agent.user)

    page = client.get(f"/console/interactions/{Interaction.objects.get().pk}/").content.decode()

    assert "Call from <strong>+4930555000</strong>" in page
    assert page.index("main: <strong>2</strong>") < page.index("orders: <strong>late delivery</strong>")
    assert 'href="https://recordings.example.com/RE7.mp3"' in page
