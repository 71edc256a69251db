"""Start-up checks that the Celery settings keep the saga's delivery guarantees (ADR 0005),
and that admission control can admit anything at all (ADR 0010).

They run with `manage.py check` (so `make run`'s migrate stops on them), when a Celery
worker starts (config.celery) and when the WSGI application loads.
"""

from django.conf import settings
from django.core.checks import Error, register

TAG = "saga"
MARGIN_SECONDS = 30


@register(TAG)
def celery_delivery_settings(app_configs=None, **kwargs) -> list[Error]:
    errors: list[Error] = []

    def require(condition: bool, id: str, msg: str, hint: str) -> None:
        if not condition:
            errors.append(Error(msg, hint=hint, id=f"saga.{id}"))

    require(
        getattr(settings, "CELERY_TASK_ACKS_LATE", False) is True,
        "E001",
        "CELERY_TASK_ACKS_LATE must be True.",
        "A task is acknowledged only after it ran, so a killed worker's task runs again.",
    )
    require(
        getattr(settings, "CELERY_TASK_REJECT_ON_WORKER_LOST", False) is True,
        "E002",
        "CELERY_TASK_REJECT_ON_WORKER_LOST must be True.",
        "Without it, the task of a worker process that died is acknowledged and lost.",
    )
    require(
        getattr(settings, "CELERY_WORKER_PREFETCH_MULTIPLIER", 4) == 1,
        "E003",
        "CELERY_WORKER_PREFETCH_MULTIPLIER must be 1.",
        "A worker holds one message per process beyond the ones it runs; a killed worker then delays few.",
    )
    hard = getattr(settings, "CELERY_TASK_TIME_LIMIT", None)
    soft = getattr(settings, "CELERY_TASK_SOFT_TIME_LIMIT", None)
    require(
        hard is not None and soft is not None and 0 < soft < hard,
        "E004",
        f"CELERY_TASK_SOFT_TIME_LIMIT ({soft}) must be set and below CELERY_TASK_TIME_LIMIT ({hard}).",
        "A stuck task must end (and be retried or re-driven) instead of holding its message for ever.",
    )
    slowest_step = (hard or 0) + settings.SAGA_DEADLINE_SECONDS + 5  # the seed's slow currencies sleep deadline + 5 s
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", 3600)
    longest_held = settings.SAGA_DEADLINE_SECONDS + slowest_step + MARGIN_SECONDS
    require(
        visibility > longest_held,
        "E005",
        f"The broker's visibility_timeout ({visibility} s) must exceed the longest time a worker holds a message "
        f"unacknowledged: the deadline countdown plus the slowest step plus {MARGIN_SECONDS} s ({longest_held} s).",
        "Otherwise Redis hands a scheduled or running task to a second worker. Raise CELERY_VISIBILITY_TIMEOUT "
        "or lower SAGA_DEADLINE_SECONDS / CELERY_TASK_TIME_LIMIT.",
    )
    require(
        settings.SAGA_LOCK_TTL_SECONDS > settings.SAGA_LOCK_WAIT_SECONDS > 0,
        "E006",
        "SAGA_LOCK_TTL_SECONDS must exceed SAGA_LOCK_WAIT_SECONDS, and both be positive.",
        "A transition waits for the lock less long than a holder may keep it.",
    )
    low, high = settings.SAGA_ADMISSION_MIN_INFLIGHT, settings.SAGA_ADMISSION_MAX_INFLIGHT
    target = settings.SAGA_ADMISSION_TARGET_SECONDS
    require(
        1 <= low <= high and (target is None or target > 0),
        "E007",
        f"SAGA_ADMISSION_MIN_INFLIGHT ({low}) must be at least 1 and at most SAGA_ADMISSION_MAX_INFLIGHT ({high}), "
        f"and SAGA_ADMISSION_TARGET_SECONDS ({target}) unset or positive.",
        "With nothing measured the admission limit is the minimum (ADR 0010): at 0 nothing would ever be "
        "admitted, so nothing would ever settle to be measured.",
    )
    return errors
