"""The widget socket end to end: Origin check, visitor token, messages in through the inbound lifecycle, agent replies
out through the delivery outbox to the visitor's socket, reconnect by snapshot + seq, identity, limits."""

import pytest
from channels.db import database_sync_to_async

from crm.choices import DeliveryStatus, MessageDirection
from crm.interactions import services as lifecycle
from crm.interactions.models import Interaction, Message
from crm.surveys.models import SurveyResponse
from crm.widget.visitors import identity_signature
from tests.agents.factories import AgentFactory

from .conftest import chat_inbox, frames_until, hello, is_message, open_widget, quiet, run

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_tasks")]


@database_sync_to_async
def agent_reply(interaction_id: int, body: str) -> Message:
    interaction = Interaction.objects.get(pk=interaction_id)
    agent = AgentFactory()
    return lifecycle.message_create(
        interaction=interaction, direction=MessageDirection.OUTBOUND, body=body, author=agent.user
    )


def test_visitor_writes_agent_replies_visitor_sees_it():
    inbox = chat_inbox()

    async def scenario():
        socket = await open_widget(inbox.settings["public_key"])
        welcome, snapshot = await hello(socket, profile={"name": "Vera"})
        assert welcome["token"] and snapshot["data"]["messages"] == []
        await socket.send_json_to({"type": "message", "client_id": "c1", "body": "Where is my order?"})
        frames = await frames_until(socket, is_message("Where is my order?"))
        assert [f["seq"] for f in frames] == list(range(1, len(frames) + 1))  # numbered from the snapshot, no gaps
        assert frames[-1]["data"]["from"] == "visitor"
        seq = len(frames)
        interaction = await database_sync_to_async(Interaction.objects.get)()
        assert interaction.channel == "chat" and interaction.inbox_id == inbox.pk
        reply = await agent_reply(interaction.pk, "It ships today.")
        frames = await frames_until(socket, is_message("It ships today."))
        assert frames[-1]["data"]["from"] == "agent"
        assert [f["seq"] for f in frames] == list(range(seq + 1, seq + 1 + len(frames)))
        await socket.disconnect()
        return interaction, reply, welcome["token"]

    interaction, reply, token = run(scenario)
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.SENT  # through the outbox
    assert interaction.customer.name == "Vera"

    async def returning():  # the same visitor comes back: their conversation, in order
        socket = await open_widget(inbox.settings["public_key"])
        _, snapshot = await hello(socket, token=token)
        await socket.disconnect()
        return snapshot

    snapshot = run(returning)
    assert [m["body"] for m in snapshot["data"]["messages"]] == ["Where is my order?", "It ships today."]
    assert snapshot["data"]["conversation"] == interaction.pk


def test_reconnect_gets_what_was_sent_while_away_once():
    inbox = chat_inbox()

    async def scenario():
        socket = await open_widget(inbox.settings["public_key"])
        welcome, _ = await hello(socket)
        await socket.send_json_to({"type": "message", "client_id": "c1", "body": "Hello"})
        await frames_until(socket, is_message("Hello"))
        await socket.disconnect()  # the socket drops
        interaction = await database_sync_to_async(Interaction.objects.get)()
        await agent_reply(interaction.pk, "Sent while you were away")
        socket = await open_widget(inbox.settings["public_key"])
        # the widget resends its unconfirmed message with the same client id: stored once
        _, snapshot = await hello(socket, token=welcome["token"])
        await socket.send_json_to({"type": "message", "client_id": "c1", "body": "Hello"})
        await socket.send_json_to({"type": "ping"})
        frames = await frames_until(socket, lambda f: f["type"] == "pong")
        await socket.disconnect()
        return snapshot, frames

    snapshot, frames = run(scenario)
    assert [m["body"] for m in snapshot["data"]["messages"]] == ["Hello", "Sent while you were away"]
    assert [f for f in frames if f["type"] == "event"] == []  # the resend is not a second message
    assert Message.objects.filter(body="Hello").count() == 1


def test_disallowed_origin_gets_nothing():
    inbox = chat_inbox()

    async def scenario():
        socket = await open_widget(inbox.settings["public_key"], origin="http://evil.example.test")
        frame = await socket.receive_json_from(timeout=5)
        closed = await socket.receive_output(timeout=5)
        return frame, closed

    frame, closed = run(scenario)
    assert frame["code"] == "origin" and "not enabled" in frame["message"]
    assert closed == {"type": "websocket.close", "code": 4403}


def test_unknown_widget_is_closed():
    async def scenario():
        socket = await open_widget("x" * 24)
        frame = await socket.receive_json_from(timeout=5)
        return frame, await socket.receive_output(timeout=5)

    frame, closed = run(scenario)
    assert frame["code"] == "unknown" and closed["code"] == 4404


def test_another_visitors_token_cannot_be_forged_and_two_inboxes_never_mix():
    inbox, other_inbox = chat_inbox(), chat_inbox()

    async def scenario():
        alice = await open_widget(inbox.settings["public_key"])
        welcome, _ = await hello(alice)
        await alice.send_json_to({"type": "message", "client_id": "a1", "body": "Alice's secret"})
        await frames_until(alice, is_message("Alice's secret"))
        await alice.disconnect()
        # a tampered token, and Alice's token on another inbox's widget: each is a new, empty visitor
        results = []
        for key, token in (
            (inbox.settings["public_key"], welcome["token"][:-2] + "xx"),
            (other_inbox.settings["public_key"], welcome["token"]),
        ):
            mallory = await open_widget(key)
            new_welcome, snapshot = await hello(mallory, token=token)
            await mallory.disconnect()
            results.append((new_welcome["token"], snapshot["data"]))
        return welcome["token"], results

    token, results = run(scenario)
    for new_token, data in results:
        assert new_token != token
        assert data["messages"] == [] and data["conversation"] is None


def test_identity_enforced_refuses_unsigned_and_wrong_and_links_the_verified():
    inbox = chat_inbox(identity_required=True)
    secret = inbox.settings["secret"]

    async def attempt(identity):
        socket = await open_widget(inbox.settings["public_key"])
        await socket.send_json_to({"type": "hello", "token": None, "identity": identity, "profile": {}})
        frame = await socket.receive_json_from(timeout=5)
        if frame["type"] == "welcome":
            await socket.receive_json_from(timeout=5)
            await socket.send_json_to({"type": "message", "client_id": "m", "body": "Hi, it is me"})
            await frames_until(socket, is_message("Hi, it is me"))
            await socket.disconnect()
            return frame, None
        return frame, await socket.receive_output(timeout=5)

    for identity in (None, {"email": "ann@example.com", "hmac": "0" * 64}):
        frame, closed = run(attempt, identity)
        assert frame["code"] == "identity" and closed["code"] == 4401
    assert not Interaction.objects.exists()
    good = {"email": "Ann@Example.com", "hmac": identity_signature(secret=secret, email="ann@example.com")}
    frame, _ = run(attempt, good)
    assert frame["verified"] is True
    interaction = Interaction.objects.get()
    assert interaction.customer.email == "ann@example.com"
    # the agent holding the chat sees the customer's chat identity labelled verified
    from django.test import Client

    agent = AgentFactory(team=interaction.queue.team)
    lifecycle.interaction_assign(interaction=interaction, agent=agent)
    client = Client()
    client.force_login(agent.user)
    page = client.get(f"/console/interactions/{interaction.pk}/").content.decode()
    assert '<span class="verified">· verified</span>' in page


def test_limits_refuse_with_a_clear_error_and_store_nothing(settings):
    settings.SWITCHBOARD_WIDGET_MAX_MESSAGE_CHARS = 20
    settings.SWITCHBOARD_WIDGET_MESSAGES_PER_MINUTE = 2
    inbox = chat_inbox()

    async def scenario():
        socket = await open_widget(inbox.settings["public_key"])
        await hello(socket)
        await socket.send_json_to({"type": "message", "client_id": "long", "body": "x" * 21})
        too_long = await socket.receive_json_from(timeout=5)
        for n in range(3):
            await socket.send_json_to({"type": "message", "client_id": f"m{n}", "body": f"message {n}"})
        frames = await frames_until(socket, lambda f: f["type"] == "error")
        await socket.disconnect()
        return too_long, frames

    too_long, frames = run(scenario)
    assert too_long["code"] == "too_long" and too_long["client_id"] == "long" and "at most 20" in too_long["message"]
    assert frames[-1]["code"] == "rate_limited" and frames[-1]["client_id"] == "m2"
    assert sorted(Message.objects.values_list("body", flat=True)) == ["message 0", "message 1"]


@database_sync_to_async
def resolve(interaction_id: int) -> None:
    interaction = Interaction.objects.get(pk=interaction_id)
    agent = AgentFactory(team=interaction.queue.team)
    interaction = lifecycle.interaction_assign(interaction=interaction, agent=agent)
    if interaction.status != "active":
        interaction = lifecycle.interaction_accept(interaction=interaction)
    lifecycle.interaction_resolve(interaction=interaction, disposition="answered")


def test_resolution_asks_the_rating_inline_and_records_it_as_the_survey_answer():
    inbox = chat_inbox()

    async def scenario():
        socket = await open_widget(inbox.settings["public_key"])
        await hello(socket)
        await socket.send_json_to({"type": "message", "client_id": "c1", "body": "Thanks for the help"})
        await frames_until(socket, is_message("Thanks for the help"))
        interaction = await database_sync_to_async(Interaction.objects.get)()
        await resolve(interaction.pk)
        frames = await frames_until(socket, lambda f: f.get("event") == "status" and f["data"]["status"] == "resolved")
        rating = frames[-1]["data"]["rating"]
        await socket.send_json_to({"type": "rate", "conversation": 999999, "score": 5})
        refused = await socket.receive_json_from(timeout=5)
        await socket.send_json_to({"type": "rate", "conversation": interaction.pk, "score": 9})
        out_of_range = await socket.receive_json_from(timeout=5)
        await socket.send_json_to({"type": "rate", "conversation": interaction.pk, "score": 4, "comment": "quick"})
        after = await frames_until(socket, lambda f: f["type"] == "snapshot")
        await socket.disconnect()
        return interaction, rating, refused, out_of_range, after[-1]

    interaction, rating, refused, out_of_range, snapshot = run(scenario)
    assert rating == {"kind": "csat", "min": 1, "max": 5}
    assert refused["code"] == "not_found"
    assert out_of_range["type"] == "error" and out_of_range["code"] == "invalid"
    response = SurveyResponse.objects.get(survey__interaction=interaction)
    assert (response.score, response.comment) == (4, "quick")
    assert snapshot["data"]["rating"] is None and snapshot["data"]["status"] == "resolved"


def test_offline_visitor_continues_by_email_on_the_same_customer():
    from tests.crm.inboxes.factories import InboxFactory

    mail_inbox = InboxFactory()
    inbox = chat_inbox(email_inbox=mail_inbox.pk)  # no agent is available

    async def scenario():
        socket = await open_widget(inbox.settings["public_key"])
        _, snapshot = await hello(socket)
        await socket.send_json_to({"type": "email_followup", "email": "zoe@example.com"})
        too_early = await socket.receive_json_from(timeout=5)
        await socket.send_json_to({"type": "message", "client_id": "c1", "body": "My parcel is lost"})
        await frames_until(socket, is_message("My parcel is lost"))
        await socket.send_json_to({"type": "email_followup", "email": "not an address"})
        invalid = await socket.receive_json_from(timeout=5)
        await socket.send_json_to({"type": "email_followup", "email": "Zoe@Example.com"})
        done = await frames_until(socket, lambda f: f["type"] == "email_followup")
        await socket.disconnect()
        return snapshot, too_early, invalid, done[-1]

    snapshot, too_early, invalid, done = run(scenario)
    assert snapshot["data"]["available"] is False and snapshot["data"]["email_followup"] is True
    assert too_early["code"] == "not_found" and invalid["code"] == "invalid"
    assert done["email"] == "zoe@example.com"
    chat = Interaction.objects.get(channel="chat")
    mail = Interaction.objects.get(channel="email")
    assert mail.customer_id == chat.customer_id and mail.follow_up_of_id == chat.pk and mail.inbox_id == mail_inbox.pk
    assert "Visitor: My parcel is lost" in mail.messages.get().body
    assert chat.customer.identities.filter(channel="email", address="zoe@example.com").exists()


def test_typing_goes_both_ways_and_only_the_holding_agent_may_send_it():
    from django.test import Client

    inbox = chat_inbox()

    async def scenario():
        socket = await open_widget(inbox.settings["public_key"])
        await hello(socket)
        await socket.send_json_to({"type": "message", "client_id": "c1", "body": "Hi"})
        await frames_until(socket, is_message("Hi"))
        interaction = await database_sync_to_async(Interaction.objects.get)()
        holder, other = await database_sync_to_async(assign)(interaction.pk)
        answers = await database_sync_to_async(post_typing)(interaction.pk, other, holder)
        frames = await frames_until(socket, lambda f: f.get("event") == "typing")
        await socket.disconnect()
        return interaction, answers, frames[-1]

    def assign(interaction_id):
        interaction = Interaction.objects.get(pk=interaction_id)
        holder = AgentFactory(team=interaction.queue.team)
        lifecycle.interaction_assign(interaction=interaction, agent=holder)
        return holder, AgentFactory(team=interaction.queue.team)

    def post_typing(interaction_id, other, holder):
        answers = []
        for agent in (other, holder):
            client = Client()
            client.force_login(agent.user)
            answers.append(client.post(f"/console/widget/typing/{interaction_id}/").status_code)
        answers.append(Client().post(f"/console/widget/typing/{interaction_id}/").status_code)
        return answers

    interaction, answers, frame = run(scenario)
    assert answers[:2] == [404, 204] and answers[2] in (302, 403)  # a stranger: the login page
    assert frame["data"] == {"conversation": interaction.pk}


def test_transcript_by_email_on_request_once_per_request():
    from django.core import mail

    from crm.widget.transcript import widget_transcript_send

    inbox = chat_inbox()

    async def scenario():
        socket = await open_widget(inbox.settings["public_key"])
        await hello(socket)
        await socket.send_json_to({"type": "transcript", "email": "zoe@example.com"})
        too_early = await socket.receive_json_from(timeout=5)
        await socket.send_json_to({"type": "message", "client_id": "c1", "body": "Is it waterproof?"})
        await frames_until(socket, is_message("Is it waterproof?"))
        interaction = await database_sync_to_async(Interaction.objects.get)()
        await agent_reply(interaction.pk, "Yes, to 50 m.")
        await frames_until(socket, is_message("Yes, to 50 m."))
        await database_sync_to_async(lifecycle.message_create)(
            interaction=interaction,
            direction=MessageDirection.INTERNAL,
            body="internal: VIP",
            author=(await database_sync_to_async(lambda: AgentFactory().user)()),
        )
        await socket.send_json_to({"type": "transcript", "email": "bad"})
        invalid = (await frames_until(socket, lambda f: f["type"] == "error"))[-1]
        await socket.send_json_to({"type": "transcript", "email": "Zoe@Example.com"})
        sent = await frames_until(socket, lambda f: f["type"] == "transcript")
        await socket.disconnect()
        return interaction, too_early, invalid, sent[-1]

    interaction, too_early, invalid, sent = run(scenario)
    assert too_early["code"] == "not_found" and invalid["code"] == "invalid"
    assert sent["email"] == "zoe@example.com"
    (message,) = [m for m in mail.outbox if "transcript" in m.subject]
    assert message.to == ["zoe@example.com"]
    assert "You: Is it waterproof?" in message.body and "Agent: Yes, to 50 m." in message.body
    assert "VIP" not in message.body
    # a redelivered task with the same request id sends nothing more
    assert widget_transcript_send(interaction_id=interaction.pk, email="zoe@example.com", request_id="r1")
    assert not widget_transcript_send(interaction_id=interaction.pk, email="zoe@example.com", request_id="r1")


def test_prechat_fields_are_required_for_a_new_conversation_and_the_email_is_kept():
    inbox = chat_inbox(prechat=["name", "email"])

    async def scenario():
        socket = await open_widget(inbox.settings["public_key"])
        welcome, _ = await hello(socket, profile={"name": "Ivo"})
        await socket.send_json_to({"type": "message", "client_id": "c1", "body": "Hello?"})
        refused = await socket.receive_json_from(timeout=5)
        await socket.disconnect()
        socket = await open_widget(inbox.settings["public_key"])
        await hello(socket, token=welcome["token"], profile={"name": "Ivo", "email": "Ivo@Example.com"})
        await socket.send_json_to({"type": "message", "client_id": "c2", "body": "Hello again"})
        await frames_until(socket, is_message("Hello again"))
        await socket.disconnect()
        return welcome, refused

    welcome, refused = run(scenario)
    assert welcome["prechat"] == ["name", "email"]
    assert refused["code"] == "prechat" and "email" in refused["message"] and refused["client_id"] == "c1"
    interaction = Interaction.objects.get()
    assert interaction.customer.name == "Ivo" and interaction.customer.email == "ivo@example.com"
    assert list(Message.objects.values_list("body", flat=True)) == ["Hello again"]


def test_a_lost_event_is_noticed_by_its_number_and_answered_with_a_snapshot():
    import redis
    from django.conf import settings as django_settings

    from crm.live.publisher import counter_key
    from crm.widget.adapter import visitor_group
    from crm.widget.visitors import visitor_for

    inbox = chat_inbox()

    async def scenario():
        socket = await open_widget(inbox.settings["public_key"])
        welcome, _ = await hello(socket)
        await socket.send_json_to({"type": "message", "client_id": "c1", "body": "First"})
        await frames_until(socket, is_message("First"))
        visitor = visitor_for(inbox=inbox, token=welcome["token"])
        # an event numbered for this visitor that never arrives (the channel layer dropped it)
        redis.Redis.from_url(django_settings.REDIS_URL).incr(counter_key(visitor_group(visitor.id)))
        interaction = await database_sync_to_async(Interaction.objects.get)()
        await agent_reply(interaction.pk, "After the gap")
        frames = await frames_until(socket, lambda f: f["type"] == "snapshot")
        await socket.disconnect()
        return frames

    frames = run(scenario)
    assert not any(f["type"] == "event" and f["data"].get("body") == "After the gap" for f in frames)
    assert [m["body"] for m in frames[-1]["data"]["messages"]] == ["First", "After the gap"]


def test_an_old_socket_is_recycled_with_4000(settings):
    settings.SWITCHBOARD_WS_MAX_AGE_SECONDS = 0.3
    inbox = chat_inbox()

    async def scenario():
        socket = await open_widget(inbox.settings["public_key"])
        await hello(socket)
        return await socket.receive_output(timeout=5)

    assert run(scenario) == {"type": "websocket.close", "code": 4000}


def test_malformed_frames_are_ignored_and_the_socket_keeps_working():
    inbox = chat_inbox()

    async def scenario():
        socket = await open_widget(inbox.settings["public_key"])
        await hello(socket)
        await socket.send_to(text_data="{not json")
        await socket.send_json_to(["a", "list"])
        await socket.send_json_to({"type": "message", "client_id": "c1", "body": 42})
        invalid = await socket.receive_json_from(timeout=5)
        await socket.send_json_to({"type": "rate", "conversation": "abc", "score": "x"})
        refused = await socket.receive_json_from(timeout=5)
        await socket.send_json_to({"type": "ping"})
        pong = await socket.receive_json_from(timeout=5)
        await socket.disconnect()
        return invalid, refused, pong

    invalid, refused, pong = run(scenario)
    assert invalid["code"] == "invalid" and refused["code"] == "not_found" and pong == {"type": "pong"}
    assert not Message.objects.exists()


def test_a_burst_of_messages_is_stored_and_echoed_in_the_order_written_once_each():
    """A socket's messages are stored off the shared database thread, still one after the other: in order."""
    inbox = chat_inbox()
    bodies = [f"part {n}" for n in range(8)]

    async def scenario():
        socket = await open_widget(inbox.settings["public_key"])
        await hello(socket)
        for n, body in enumerate(bodies):
            await socket.send_json_to({"type": "message", "client_id": f"c{n}", "body": body})
        await socket.send_json_to({"type": "message", "client_id": "c0", "body": bodies[0]})  # a resend: no echo
        frames = await frames_until(socket, is_message(bodies[-1]))
        frames += await quiet(socket)
        await socket.disconnect()
        return frames

    frames = run(scenario)
    echoed = [f["data"]["body"] for f in frames if f.get("type") == "event" and f["event"] == "message"]
    assert echoed == bodies
    assert [f["seq"] for f in frames if f.get("type") == "event"] == list(range(1, len(frames) + 1))
    assert list(Message.objects.order_by("id").values_list("body", flat=True)) == bodies
