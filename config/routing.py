"""Websocket routes: the live console and wallboard (protocol in ``crm.live.consumers``) and the website chat
widget (``crm.widget.consumer``), which checks the page's Origin against its inbox's ``allowed_origins`` itself."""

from django.urls import path

from crm.live.consumers import ConsoleConsumer, WallboardConsumer
from crm.widget.consumer import WidgetConsumer

websocket_urlpatterns = [
    path("ws/console/", ConsoleConsumer.as_asgi()),
    path("ws/wallboard/", WallboardConsumer.as_asgi()),
]

# Not behind the session or the ALLOWED_HOSTS origin check: visitors' pages are other sites.
widget_websocket_urlpatterns = [
    path("ws/widget/<str:public_key>/", WidgetConsumer.as_asgi()),
]
