"""The Redis locks: the per-order transition lock, and the one-sweep-at-a-time lock of the backstops.

The transition lock serializes approve and reject so that they rarely race; it does not
decide. A lock can expire while its holder still works (a GC pause, a slow query, a TTL
too short), so the decision is the database compare-and-set in checkout.services. See
docs/adr/0001. The sweep lock only saves work: everything a sweep does is idempotent
(docs/adr/0009).
"""

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import redis
from django.conf import settings
from redis.exceptions import LockError

log = logging.getLogger(__name__)


class LockTimeout(Exception):
    """Another transition held the order's lock for longer than we wait; the task retries."""


_client: redis.Redis | None = None
_client_lock = threading.Lock()


def redis_client() -> redis.Redis:
    """This process's one client. Made under a lock: functools.cache let threads that asked at once
    each build one, and a client nobody kept (`redis_client().pipeline()` keeps only its pool) was
    collected at once, and its `__del__` closed the pool's sockets under the pipeline still using
    them ("Bad file descriptor", a 500 on a web process's first burst)."""
    global _client
    if _client is None:
        with _client_lock:
            if _client is None:
                _client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=5)
    return _client


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


@contextmanager
def sweep_lock(name: str) -> Iterator[bool]:
    """Yield True while this process holds the sweep `name`'s lock, False at once if another one does.

    A sweep that finds the lock held returns instead of waiting: the one running does the
    work, and sweeps queued behind a backlog do not pile up on each other. The lock lives
    as long as a task may run (CELERY_TASK_TIME_LIMIT), so a sweep killed with it held
    delays the next ones by that much at most.
    """
    lock = redis_client().lock(
        f"sweep:{name}", timeout=settings.CELERY_TASK_TIME_LIMIT, blocking=False, thread_local=False
    )
    if not lock.acquire():
        log.debug("%s: another sweep holds the lock; this one returns", name)
        yield False
        return
    try:
        yield True
    finally:
        try:
            lock.release()
        except LockError:
            log.warning("%s: the sweep outlived its lock", name)
