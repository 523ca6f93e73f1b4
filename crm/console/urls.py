"""The agent console, mounted at ``/console/`` by ``config/urls.py``."""

from django.urls import path

from .views import home as views
from .views import interaction as interaction_views

app_name = "console"

urlpatterns = [
    path("", views.console_home, name="home"),
    path("status/", views.console_set_status, name="status"),
    path("my-work/", views.console_my_work_fragment, name="my-work"),
    path("queues/", views.console_queues_fragment, name="queues"),
    path("break/", views.console_break_fragment, name="break"),
    path("training/", views.console_training_fragment, name="training"),
    path("interactions/<int:pk>/", interaction_views.interaction_detail, name="interaction"),
    path("interactions/<int:pk>/accept/", interaction_views.interaction_accept, name="accept"),
    path("interactions/<int:pk>/hold/", interaction_views.interaction_hold, name="hold"),
    path("interactions/<int:pk>/resume/", interaction_views.interaction_resume, name="resume"),
    path("interactions/<int:pk>/reply/", interaction_views.interaction_reply, name="reply"),
    path("interactions/<int:pk>/note/", interaction_views.interaction_note, name="note"),
    path("interactions/<int:pk>/transfer/", interaction_views.interaction_transfer, name="transfer"),
    path("interactions/<int:pk>/resolve/", interaction_views.interaction_resolve, name="resolve"),
]
