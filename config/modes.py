"""Which API mode a process runs in (ADR 0012), from its environment: one rule for the settings and
the `make run` banner. Imports nothing of Django's."""

LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


def is_loopback(bind: str) -> bool:
    return bind in LOOPBACK


def api_mode_default(*, embedded: bool, debug: bool, web_bind: str) -> str:
    """`local` (open) only for `make run` on a laptop: embedded services, DEBUG on, web on loopback."""
    return "local" if embedded and debug and is_loopback(web_bind) else "protected"


def describe(*, mode: str, wdm_open: bool, batch_init: bool) -> str:
    access = (
        "open without credentials: SAGA_API_MODE=local, on this machine only"
        if mode == "local"
        else "protected: an API key (manage.py apikey create) or a user token (POST /auth/tokens)"
        + ("; /wdm open (SAGA_WDM_OPEN)" if wdm_open else "")
    )
    return access + (", batch_init on (SAGA_BATCH_INIT)" if batch_init else "")
