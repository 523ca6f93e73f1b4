"""The console routes inboxes add, mounted at ``/console/`` by ``config/urls.py`` (namespace ``inbox-console``)."""

from django.urls import path

from . import console_views as views

app_name = "inbox-console"

urlpatterns = [
    path("interactions/<int:pk>/messages/<int:message_pk>/retry/", views.message_retry, name="retry"),
    path(
        "interactions/<int:pk>/messages/<int:message_pk>/attachments/<int:index>/",
        views.message_attachment,
        name="attachment",
    ),
]
