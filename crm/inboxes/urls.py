"""Public inbound URLs of the inboxes (mounted at the site's root by ``config.urls``)."""

from django.urls import path

from . import twilio_views, views

app_name = "inboxes"

urlpatterns = [
    path("inbound/email/<str:token>/", views.email_inbound, name="email-inbound"),
    path("inbound/twilio/<str:token>/", twilio_views.twilio_inbound, name="twilio-inbound"),
    path("inbound/twilio/<str:token>/status/", twilio_views.twilio_status, name="twilio-status"),
]
