"""The open modes are for one machine only: refuse them where they would be open to a network.

Tagged "saga" as well, so that gunicorn and the workers refuse to start (config/checks.py), not only
`manage.py check`.
"""

from django.conf import settings
from django.core.checks import Error, Tags, register

from config.modes import is_loopback

from .throttles import parse_rate


@register(Tags.security, "saga")  # "saga": the web and the workers refuse to start (config.checks)
def open_modes(app_configs=None, **kwargs) -> list[Error]:
    errors = []
    if settings.SAGA_API_MODE not in ("local", "protected"):
        errors.append(
            Error(f"SAGA_API_MODE is {settings.SAGA_API_MODE!r}.", hint="local or protected", id="callers.E001")
        )
    if settings.SAGA_API_MODE == "local" and not is_loopback(settings.WEB_BIND):
        errors.append(
            Error(
                "SAGA_API_MODE=local opens the API without credentials; it is for a web bound to loopback only.",
                hint=f"WEB_BIND={settings.WEB_BIND}: unset SAGA_API_MODE (protected), or bind to 127.0.0.1.",
                id="callers.E002",
            )
        )
    if settings.SAGA_WDM_OPEN and not is_loopback(settings.WEB_BIND):
        errors.append(
            Error(
                "SAGA_WDM_OPEN opens /wdm without credentials; it is for a benchmark on this machine only.",
                hint=f"WEB_BIND={settings.WEB_BIND}: bind to 127.0.0.1, or give the benchmark a service key.",
                id="callers.E003",
            )
        )
    for route_class, rate in settings.SAGA_THROTTLE_RATES.items():
        try:
            count, _ = parse_rate(rate)
            assert count > 0
        except (ValueError, KeyError, IndexError, AssertionError):
            errors.append(
                Error(
                    f"The throttle rate of {route_class!r} is {rate!r}.",
                    hint="A positive number of requests per s, min, h or d, as 600/min.",
                    id="callers.E004",
                )
            )
    return errors
