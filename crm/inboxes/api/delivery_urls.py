"""The retry of a reply's delivery, under ``/api/v1/`` (included by ``crm/api/urls.py``); with or without "/"."""

from django.urls import re_path

from .deliveries import MessageRetryView

urlpatterns = [
    re_path(
        r"^interactions/(?P<interaction_pk>[^/]+)/messages/(?P<message_pk>[^/]+)/retry/?$",
        MessageRetryView.as_view(),
        name="interaction-message-retry",
    ),
]
