"""The calls' routes, under ``/api/v1/`` (gathered by ``crm/api_urls.py``); both ``/x`` and ``/x/``."""

from django.urls import re_path

from .views import CallEventView, CallListView

urlpatterns = [
    re_path(r"^calls/?$", CallListView.as_view(), name="call-list"),
    re_path(r"^calls/(?P<id>[^/]+)/events/?$", CallEventView.as_view(), name="call-events"),
]
