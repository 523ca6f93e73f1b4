"""Public inbound URLs of the inboxes (mounted at the site's root by ``config.urls``)."""

from django.urls import path

from . import views

app_name = "inboxes"

urlpatterns = [
    path("inbound/email/<str:token>/", views.email_inbound, name="email-inbound"),
]
