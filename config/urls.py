from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config.probes import healthz, readyz
from reporting.metrics import metrics
from reporting.wallboard import wallboard

api_v1 = [
    path("", include("contacts.api.urls")),
    path("", include("agents.api.urls")),
    path("", include("crm.api_urls")),
    path("", include("reporting.api.urls")),
]

urlpatterns = [
    # The busiest first, the API and the providers' inbound calls: Django tries the patterns in order, and each
    # include at "" below is tried whole for every path. No two entries here match the same path, so the order
    # changes nothing but the tries (tests/test_urls.py).
    path("api/v1/", include((api_v1, "api"), namespace="v1")),
    path("", include("crm.inboxes.urls")),
    # browsers ask for /favicon.ico where a page names no icon (a JSON answer, a file): the one the pages name
    path("favicon.ico", RedirectView.as_view(url=static("switchboard/favicon.svg"), permanent=True)),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("accounts/", include("agents.urls")),  # "My preferences" (language, time zone)
    path("accounts/", include("django.contrib.auth.urls")),
    # the console's JavaScript strings in the request's language (gettext() in crm/static/console/*.js)
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("console/", include("crm.console.urls")),
    path("console/", include("crm.inboxes.console_urls")),
    path("wallboard/", wallboard, name="wallboard"),
    path("reports/", include("reporting.urls")),
    path("", include("crm.surveys.urls")),
    path("", include("crm.calls.urls")),
    path("", include("crm.widget.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]
