from django.apps import AppConfig


class ReportingConfig(AppConfig):
    name = "reporting"
    verbose_name = "Reporting"

    def ready(self) -> None:
        from .admin_dashboard import install

        install()  # the supervisor's landing dashboard at /admin/
