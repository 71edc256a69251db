from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured


def fail_on_saga_errors() -> None:
    """Refuse to start a process whose settings break the saga's delivery guarantees (saga.E0xx)."""
    errors = [message for message in run_checks(tags=["saga"]) if message.is_serious()]
    if errors:
        raise ImproperlyConfigured("\n".join(f"{error.id}: {error.msg} {error.hint}" for error in errors))
