"""The per-order transition lock (Redis).

It serializes approve and reject so that they rarely race; it does not decide. A lock
can expire while its holder still works (a GC pause, a slow query, a TTL too short), so
the decision is the database compare-and-set in checkout.services. See docs/adr/0001.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

import redis
from django.conf import settings
from redis.exceptions import LockError

log = logging.getLogger(__name__)


class LockTimeout(Exception):
    """Another transition held the order's lock for longer than we wait; the task retries."""


@cache
def redis_client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=5)


@contextmanager
def transition_lock(saga_id: int) -> Iterator[None]:
    lock = redis_client().lock(
        f"saga:{saga_id}:transition",
        timeout=settings.SAGA_LOCK_TTL_SECONDS,
        blocking_timeout=settings.SAGA_LOCK_WAIT_SECONDS,
        thread_local=False,
    )
    if not lock.acquire():
        raise LockTimeout(f"saga {saga_id}: transition lock busy")
    try:
        yield
    finally:
        try:
            lock.release()
        except LockError:
            log.warning("saga %s: transition lock expired before release; the compare-and-set decided", saga_id)
