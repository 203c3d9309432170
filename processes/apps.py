from django.apps import AppConfig


class ProcessesConfig(AppConfig):
    name = "processes"
    verbose_name = "Processes"

    def ready(self) -> None:
        from django.conf import settings

        from processes.registry import load_service_modules

        load_service_modules(settings.SERVICE_MODULES)
