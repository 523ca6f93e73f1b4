from django.urls import path

from . import typing, views

app_name = "widget"

urlpatterns = [
    path("widget/<str:public_key>.js", views.widget_script, name="script"),
    path("console/widget/typing/<int:pk>/", typing.agent_typing, name="agent-typing"),
]
