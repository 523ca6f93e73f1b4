"""Voice through Twilio: the requests and status callbacks Twilio Voice sends a voice inbox (form fields as Twilio
documents them, signed with X-Twilio-Signature) run the same call lifecycle as the calls API, answered with TwiML."""

from urllib.parse import urlencode

import pytest
from django.utils import timezone

from agents.choices import AgentStatus
from crm.calls.adapter import VoiceAdapter
from crm.calls.models import Call, CallOutcome
from crm.choices import InteractionStatus
from crm.inboxes.adapters import InvalidSettings
from crm.inboxes.adapters.twilio.signature import twilio_signature
from crm.inboxes.models import InboundReceipt
from crm.inboxes.selectors import inbox_inbound_url
from crm.interactions.models import Interaction
from crm.routing.services.router import route_pending
from tests.agents.factories import AgentFactory, TeamFactory
from tests.crm.factories import QueueFactory
from tests.crm.inboxes.factories import InboxFactory
from tests.support.fake_twilio import SID, TOKEN

pytestmark = pytest.mark.django_db

S = InteractionStatus
PUBLIC = "https://switchboard.example.com"
CALL_SID, CALLER, LINE = "CA" + "5" * 32, "+4930555000", "+4930999000"


@pytest.fixture(autouse=True)
def public_url(settings):
    settings.SWITCHBOARD_PUBLIC_URL = PUBLIC


@pytest.fixture
def line(db):
    team = TeamFactory(name="Phones")
    queue = QueueFactory(name="Phone support", team=team, channels=["voice"])
    return InboxFactory(name="Hotline", channel="voice", adapter="voice", queue=queue,
                        settings=VoiceAdapter.validate_settings({"account_sid": SID, "auth_token": TOKEN}))  # fmt: skip


def _path(inbox, **query):
    path = f"/inbound/twilio/{inbox.token}/voice/"
    return path + (f"?{urlencode(query)}" if query else "")


def _voice(**extra):
    """The standard parameters of Twilio's voice requests (twilio.com/docs/voice/twiml#request-parameters)."""
    return {"CallSid": CALL_SID, "AccountSid": SID, "From": CALLER, "To": LINE, "Caller": CALLER, "Called": LINE,
            "Direction": "inbound", "ApiVersion": "2010-04-01", "CallStatus": "in-progress", **extra}  # fmt: skip


def _post(client, inbox, fields, *, signature=None, **query):
    path = _path(inbox, **query)
    if signature is None:
        signature = twilio_signature(url=PUBLIC + path, params=fields.items(), auth_token=TOKEN)
    return client.post(
        path, urlencode(fields), content_type="application/x-www-form-urlencoded", HTTP_X_TWILIO_SIGNATURE=signature
    )


def _available(team, name):
    return AgentFactory(name=name, team=team, status=AgentStatus.AVAILABLE, status_changed_at=timezone.now())


def test_the_voice_inbox_shows_its_twilio_url_and_keeps_the_token_secret(line):
    assert inbox_inbound_url(line) == f"{PUBLIC}/inbound/twilio/{line.token}/voice/"
    assert VoiceAdapter.redact_settings(line.settings) == {"account_sid": SID, "auth_token": "***"}
    assert VoiceAdapter.validate_settings({}) == {}
    with pytest.raises(InvalidSettings) as caught:
        VoiceAdapter.validate_settings({"account_sid": SID})
    assert set(caught.value.errors) == {"auth_token"}


def test_a_call_comes_in_is_queued_with_twiml_and_a_repeat_is_stored_once(client, line):
    first = _post(client, line, _voice(CallStatus="ringing"))
    again = _post(client, line, _voice(CallStatus="ringing"))  # Twilio retried

    assert first.status_code == again.status_code == 200 and first["Content-Type"].startswith("text/xml")
    twiml = first.content.decode()
    assert f'<Enqueue action="{PUBLIC}/inbound/twilio/{line.token}/voice/" method="POST">' in twiml
    assert f"switchboard-queue-{line.queue_id}</Enqueue></Response>" in twiml
    assert again.content == first.content
    call = Call.objects.get()
    assert (call.provider_call_id, call.caller, call.interaction.status) == (CALL_SID, CALLER, S.QUEUED)
    assert call.interaction.queue_id == line.queue_id and Interaction.objects.count() == 1


def test_a_bad_signature_is_refused_and_nothing_stored(client, line, settings):
    assert _post(client, line, _voice(CallStatus="ringing"), signature="forged=").status_code == 403
    assert _post(client, line, _voice(CallStatus="ringing"), signature="").status_code == 403
    wrong_key = twilio_signature(url=PUBLIC + _path(line), params=_voice(CallStatus="ringing").items(),
                                 auth_token="0" * 32)  # fmt: skip
    assert _post(client, line, _voice(CallStatus="ringing"), signature=wrong_key).status_code == 403
    plain = InboxFactory(name="API line", channel="voice", adapter="voice", queue=line.queue, settings={})
    assert _post(client, plain, _voice(CallStatus="ringing")).status_code == 404  # not connected to Twilio

    assert not Call.objects.exists() and not Interaction.objects.exists() and not InboundReceipt.objects.exists()


def test_an_ivr_path_through_gather_that_ends_in_self_service(client, line):
    menu = _post(client, line, _voice(Digits="3"), menu="main", next="https://ivr.example.com/balance")
    _post(client, line, _voice(CallStatus="completed", CallDuration="41"))
    _post(client, line, _voice(CallStatus="completed", CallDuration="41"))  # the same callback twice

    assert menu.status_code == 200
    redirect = '<Redirect method="POST">https://ivr.example.com/balance?Digits=3</Redirect>'
    assert redirect in menu.content.decode()
    call = Call.objects.get()
    assert call.outcome == CallOutcome.SELF_SERVICE and call.interaction.status == S.CLOSED
    assert [(s["menu"], s["choice"]) for s in call.ivr_path] == [("main", "3")]
    assert InboundReceipt.objects.filter(key=f"voice:{CALL_SID}:status:completed").count() == 1


def test_a_call_is_queued_after_the_menu_answered_through_the_queue_and_recorded(client, line):
    agent = _available(line.queue.team, "Ann")
    _post(client, line, _voice(Digits="2", CallSid="CA" + "6" * 32), menu="main")  # the menu's last step
    call = Call.objects.get()
    assert call.interaction.status == S.QUEUED and call.ivr_path[0]["choice"] == "2"
    assert route_pending() == 1
    call.interaction.refresh_from_db()
    assert call.interaction.agent == agent and call.interaction.status == S.ASSIGNED

    sid = {"CallSid": "CA" + "6" * 32}
    answered = _post(client, line, _voice(**sid, DequeingCallSid="CA" + "7" * 32, QueueSid="QU1", QueueTime="12"),
                     agent=str(agent.pk))  # fmt: skip
    url = f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Recordings/RE{'1' * 32}"
    recording = {"RecordingSid": "RE" + "1" * 32, "RecordingUrl": url, "RecordingStatus": "completed"}
    _post(client, line, _voice(**sid, **recording))
    _post(client, line, _voice(**sid, **recording))
    bridged = _post(client, line, _voice(**sid, QueueResult="bridged", QueueTime="12", QueueSid="QU1"))
    _post(client, line, _voice(**sid, CallStatus="completed"))  # after the queue result: ends nothing twice

    assert answered.status_code == bridged.status_code == 200 and b"<Response></Response>" in bridged.content
    call.refresh_from_db()
    assert call.outcome == CallOutcome.ANSWERED and call.answered_at is not None
    assert call.interaction.status == S.WRAP_UP and call.recording_url == recording["RecordingUrl"]
    assert InboundReceipt.objects.filter(key__startswith=f"voice:{sid['CallSid']}:recording:").count() == 1
    assert "not applied" in InboundReceipt.objects.get(key=f"voice:{sid['CallSid']}:status:completed").reason


def test_a_caller_who_hangs_up_in_the_queue_is_abandoned_at_the_last_menu_step(client, line):
    _post(client, line, _voice(Digits="1"), menu="main", next="https://ivr.example.com/billing")
    queued = _post(client, line, _voice(Digits="4"), menu="billing")
    _post(client, line, _voice(QueueResult="hangup", QueueTime="95", QueueSid="QU1"))
    _post(client, line, _voice(CallStatus="completed"))

    assert "<Enqueue" in queued.content.decode()
    call = Call.objects.get()
    assert (call.outcome, call.abandoned_at_step, call.interaction.status) == (
        CallOutcome.ABANDONED,
        "billing:4",
        S.ABANDONED,
    )
    assert "after 95 s" in InboundReceipt.objects.get(key=f"voice:{CALL_SID}:queue:hangup").reason


def test_the_menu_may_pick_a_queue_of_the_lines_team_only(client, line):
    billing = QueueFactory(name="Billing", team=line.queue.team, channels=["voice"])
    foreign = QueueFactory(name="Elsewhere", team=TeamFactory(name="Other"), channels=["voice"])

    picked = _post(client, line, _voice(Digits="2"), menu="main", queue=str(billing.pk))
    _post(client, line, _voice(Digits="9", CallSid="CA" + "8" * 32), menu="main", queue=str(foreign.pk))

    assert f"switchboard-queue-{billing.pk}</Enqueue>" in picked.content.decode()
    queues = dict(Call.objects.values_list("provider_call_id", "interaction__queue_id"))
    assert queues == {CALL_SID: billing.pk, "CA" + "8" * 32: line.queue_id}


def test_an_agent_of_the_line_may_take_a_call_nobody_was_offered_and_a_stranger_may_not(client, line):
    ann = AgentFactory(name="Ann", team=line.queue.team)  # not available: routing offers her nothing
    stranger = AgentFactory(name="Sam", team=TeamFactory(name="Other"))
    _post(client, line, _voice(CallStatus="ringing"))
    leg = {"QueueSid": "QU1", "QueueTime": "30"}

    _post(client, line, _voice(DequeingCallSid="CA" + "1" * 32, **leg), agent=str(stranger.pk))
    assert Call.objects.get().interaction.status == S.QUEUED
    _post(client, line, _voice(DequeingCallSid="CA" + "2" * 32, **leg), agent=str(ann.pk))

    call = Call.objects.get()
    assert (call.interaction.status, call.interaction.agent) == (S.ACTIVE, ann)
    assert "not applied" in InboundReceipt.objects.get(key=f"voice:{CALL_SID}:answered:CA{'1' * 32}").reason


def test_a_status_callback_records_a_call_in_the_centers_own_ivr_without_queueing_it(client, line):
    progress = {"CallbackSource": "call-progress-events", "Timestamp": "Fri, 04 Dec 2026 07:30:00 +0000"}

    answer = _post(client, line, _voice(CallStatus="in-progress", SequenceNumber="1", **progress))
    _post(client, line, _voice(Digits="1"), menu="main", next="https://ivr.example.com/orders")

    assert answer.status_code == 200 and b"<Response></Response>" in answer.content
    call = Call.objects.get()
    assert call.interaction.status == S.NEW and [s["choice"] for s in call.ivr_path] == ["1"]  # still in the IVR


@pytest.mark.parametrize("caller", ["anonymous", "+266696687", "client:alice"])
def test_a_withheld_or_odd_caller_id_still_gets_queued(client, line, caller):
    answer = _post(client, line, _voice(CallStatus="ringing", From=caller, Caller=caller))

    assert answer.status_code == 200 and b"<Enqueue" in answer.content
    interaction = Call.objects.get().interaction
    assert interaction.status == S.QUEUED
    assert interaction.customer.name == ("Withheld number" if caller == "anonymous" else caller)
