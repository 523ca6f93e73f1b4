"""The widget speaks the visitor's language: its texts come with the welcome frame, and what the server refuses is
said in that language too (the hello frame's ``language``, else the handshake's ``Accept-Language``, else English)."""

import pytest
from channels.testing import WebsocketCommunicator

from crm.interactions.models import Interaction

from .conftest import SHOP, chat_inbox, hello, open_widget, run

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_tasks")]


async def hello_in(socket, language, **kwargs):
    await socket.send_json_to({"type": "hello", "token": None, "identity": None, "profile": {}, "language": language})
    welcome = await socket.receive_json_from(timeout=5)
    assert welcome["type"] == "welcome", welcome
    await socket.receive_json_from(timeout=5)  # the snapshot
    return welcome


def test_a_german_visitor_gets_german_texts_and_a_german_refusal():
    inbox = chat_inbox(prechat=["email"])

    async def scenario():
        socket = await open_widget(inbox.settings["public_key"])
        welcome = await hello_in(socket, "de-DE")
        await socket.send_json_to({"type": "message", "client_id": "c1", "body": "Hallo?"})
        refused = await socket.receive_json_from(timeout=5)
        await socket.send_json_to({"type": "message", "client_id": "c2", "body": "x" * 100_000})
        too_long = await socket.receive_json_from(timeout=5)
        await socket.disconnect()
        return welcome, refused, too_long

    welcome, refused, too_long = run(scenario)
    assert welcome["language"] == "de"
    texts = welcome["texts"]
    assert texts["title"] == "Chatten Sie mit uns"
    assert texts["send"] == "Senden" and texts["message"] == "Nachricht schreiben …"
    assert texts["transcript_sent"] == "Das Chatprotokoll ist unterwegs an {email}."  # the script fills it in
    assert refused["code"] == "prechat" and refused["message"] == "Bitte geben Sie zuerst Folgendes an: E-Mail-Adresse."
    assert too_long["code"] == "too_long" and "Ihre Nachricht ist zu lang" in too_long["message"]
    assert not Interaction.objects.exists()


def test_a_french_visitor_gets_english_and_a_spanish_browser_spanish():
    inbox = chat_inbox()

    async def scenario():
        french = await open_widget(inbox.settings["public_key"])
        welcome_fr = await hello_in(french, "fr")
        await french.send_json_to({"type": "message", "client_id": "c1", "body": "   "})
        refused_fr = await french.receive_json_from(timeout=5)
        await french.disconnect()
        # no language in the hello: the handshake's Accept-Language decides
        from config.asgi import application

        headers = [(b"origin", SHOP.encode()), (b"accept-language", b"fr-FR,es-MX;q=0.8,en;q=0.5")]
        spanish = WebsocketCommunicator(application, f"/ws/widget/{inbox.settings['public_key']}/", headers=headers)
        assert (await spanish.connect(timeout=5))[0]
        welcome_es, _ = await hello(spanish)
        await spanish.send_json_to({"type": "message", "client_id": "c2", "body": "   "})
        refused_es = await spanish.receive_json_from(timeout=5)
        await spanish.disconnect()
        return welcome_fr, refused_fr, welcome_es, refused_es

    welcome_fr, refused_fr, welcome_es, refused_es = run(scenario)
    assert welcome_fr["language"] == "en" and welcome_fr["texts"]["title"] == "Chat with us"
    assert refused_fr["message"] == "Your message is empty."
    assert welcome_es["language"] == "es" and welcome_es["texts"]["start"] == "Iniciar chat"
    assert refused_es["message"] == "Su mensaje está vacío."


def test_an_unknown_widget_says_so_in_the_browsers_language():
    async def scenario():
        from config.asgi import application

        headers = [(b"origin", SHOP.encode()), (b"accept-language", b"de-AT,de;q=0.9")]
        socket = WebsocketCommunicator(application, "/ws/widget/" + "x" * 24 + "/", headers=headers)
        assert (await socket.connect(timeout=5))[0]
        frame = await socket.receive_json_from(timeout=5)
        return frame, await socket.receive_output(timeout=5)

    frame, closed = run(scenario)
    assert frame["code"] == "unknown" and frame["message"] == "Diesen Chat gibt es nicht."
    assert closed["code"] == 4404
