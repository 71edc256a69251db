from django.apps import AppConfig


class CheckoutConfig(AppConfig):
    name = "checkout"
    verbose_name = "Checkout (the saga)"

    def ready(self) -> None:
        from . import checks  # noqa: F401 - registers the start-up checks
