"""The public URL of voice inboxes connected to Twilio (mounted at the site's root by ``config.urls``)."""

from django.urls import path

from . import twilio_views

app_name = "calls"

urlpatterns = [
    path("inbound/twilio/<str:token>/voice/", twilio_views.twilio_voice, name="twilio-voice"),
]
