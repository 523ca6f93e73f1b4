"""crm's API routes, mounted under ``/api/v1/`` by ``config.urls``. Each concern's ``api/urls.py`` owns its routes;
this file only gathers them, under the URL namespace ``crm-api`` (``v1:crm-api:interaction-list``)."""

from django.urls import include, path

app_name = "crm-api"

urlpatterns = [
    path("", include("crm.interactions.api.urls")),
    path("", include("crm.timeline.api.urls")),
    path("", include("crm.routing.api.urls")),
    path("", include("crm.sla.api.urls")),
    path("", include("crm.quality.api.urls")),
    path("", include("crm.surveys.api.urls")),
    path("", include("crm.webhooks.api.urls")),
    path("", include("crm.inboxes.api.urls")),
    path("", include("crm.inboxes.api.bridge_urls")),
    path("", include("crm.inboxes.api.delivery_urls")),
    path("", include("crm.calls.api.urls")),
    path("", include("crm.privacy.api.urls")),
]
