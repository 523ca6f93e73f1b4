from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = "Contact center"

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (connects the router's triggers)
