"""Fault injection, off unless SAGA_FAULT_PROFILE (comma-separated) says otherwise.

`duplicate` publishes every task message twice (config.celery), as a broker that
delivers everything twice would.

`seed` reproduces seed 000's special currencies in the exchange step:
currency 100 sleeps (deadline + 5 s) before the step's expiry check, so the step finds
itself expired; currency 200 sleeps as long after it, so the step applies after the
deadline (the quiz) and must be refused by the tombstone its compensation left.
"""

import time

from django.conf import settings

from .models import Saga, Service

SLOW_BEFORE_CHECK = 100
SLOW_AFTER_CHECK = 200


def active(profile: str) -> bool:
    """SAGA_FAULT_PROFILE is a comma-separated list: `seed`, `duplicate` (see config.celery)."""
    return profile in settings.SAGA_FAULT_PROFILE.split(",")


def _seed_sleep(saga: Saga, service: Service, currency_id: int) -> bool:
    if not active("seed") or service != Service.EXCHANGES:
        return False
    if not any(line_currency == currency_id for line_currency, _ in saga.lines):
        return False
    time.sleep((saga.deadline_at - saga.created_at).total_seconds() + 5)
    return True


def before_expiry_check(saga: Saga, service: Service) -> bool:
    """Return whether it slept (the saga read before it is then stale)."""
    return _seed_sleep(saga, service, SLOW_BEFORE_CHECK)


def after_expiry_check(saga: Saga, service: Service) -> None:
    _seed_sleep(saga, service, SLOW_AFTER_CHECK)


def inside_transition(saga: Saga) -> None:
    """A seam between reading a saga and its compare-and-set; race tests stretch it past the lock TTL."""
