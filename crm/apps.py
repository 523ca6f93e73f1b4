from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = "Contact center"

    def ready(self) -> None:
        from . import events, receivers  # noqa: F401  (connect the live events' publishers and the router's triggers)
