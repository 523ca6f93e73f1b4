"""Websocket routes: the live console and wallboard (protocol in ``crm.live.consumers``)."""

from django.urls import path

from crm.live.consumers import ConsoleConsumer, WallboardConsumer

websocket_urlpatterns = [
    path("ws/console/", ConsoleConsumer.as_asgi()),
    path("ws/wallboard/", WallboardConsumer.as_asgi()),
]
