"""The bridge's inbound route, under ``/api/v1/`` (included by ``crm/api/urls.py``); both ``/x`` and ``/x/``."""

from django.urls import re_path

from .bridge import BridgeMessageView

urlpatterns = [
    re_path(r"^inboxes/(?P<id>[^/]+)/messages/?$", BridgeMessageView.as_view(), name="inbox-bridge-messages"),
]
