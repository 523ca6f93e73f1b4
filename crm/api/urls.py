"""crm API routes. Each resource module owns its routes; this file only gathers them."""

from django.urls import include, path

app_name = "crm-api"

urlpatterns = [
    path("", include("crm.api.interactions.urls")),
    path("", include("crm.api.setup.urls")),
    path("", include("crm.api.canned_responses.urls")),
    path("", include("crm.api.quality.urls")),
    path("", include("crm.api.webhooks.urls")),
    path("", include("crm.inboxes.api.bridge_urls")),
    path("", include("crm.inboxes.api.delivery_urls")),
]
