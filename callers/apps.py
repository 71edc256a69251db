from django.apps import AppConfig


class CallersConfig(AppConfig):
    name = "callers"
    verbose_name = "Callers: service keys and who may call what"

    def ready(self) -> None:
        from . import checks, schema  # noqa: F401 - register the open-mode checks and the schema's schemes
