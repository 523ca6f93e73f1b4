"""Websocket routes. Live queue and agent updates arrive with the routing issue."""

websocket_urlpatterns: list = []
