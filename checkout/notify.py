"""Wake the requests that wait for an attempt to settle (ADR 0004, ADR 0008).

An attempt is settled when it is APPROVED, or REJECTED with every compensation done.
The transactions that settle it publish `STATUS REASON` on `saga:{id}:settled` after
they commit. Each web process holds one pattern subscription (`saga:*:settled`) on one
connection, read by one listener thread; a waiting request parks on an Event that the
listener sets. A waiter registers first and reads second, so it cannot miss the moment:
a message published after its read reaches the listener, which is subscribed before
any waiter is let through. Pub/sub may drop a message (a reconnect), so a waiter also
re-reads every SAGA_WAIT_RECHECK_SECONDS, and every waiter re-reads after a reconnect.
"""

import logging
import os
import threading
import time

from django.conf import settings
from django.db import transaction

from config.sql import sql_one, table

from .admission import admission_release
from .locks import redis_client
from .models import Saga, SagaStatus

log = logging.getLogger(__name__)
PATTERN = "saga:*:settled"


class NotSettled(Exception):
    """The attempt was still unsettled when the wait gave up."""


def _channel(saga_id: int) -> str:
    return f"saga:{saga_id}:settled"


def settled(saga: Saga) -> bool:
    return saga.status == SagaStatus.APPROVED or (
        saga.status == SagaStatus.REJECTED and saga.compensated_at is not None
    )


def settled_announce(saga_id: int, *, status: str, reason: str = "") -> None:
    """Publish, once the current transaction commits, that the attempt settled (and how).

    The same Redis call frees the attempt's admission ticket, before the waiters hear of it (ADR 0010).
    """
    message = f"{status} {reason}".strip()
    transaction.on_commit(lambda: admission_release(saga_id, channel=_channel(saga_id), message=message), robust=True)


class Waiter:
    def __init__(self) -> None:
        self.woken = threading.Event()
        self.outcome: str | None = None  # "APPROVED" or "REJECTED REASON", from the message


class _Listener:
    """One subscription per process, shared by every waiting thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: dict[int, set[Waiter]] = {}
        self._subscribed = threading.Event()
        self._pid: int | None = None

    def _ensure_running(self) -> None:
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()  # a forked child (a gunicorn worker) starts its own
            self._waiters, self._subscribed = {}, threading.Event()
            threading.Thread(target=self._run, name="saga-settled-listener", daemon=True).start()

    def register(self, saga_id: int) -> Waiter:
        self._ensure_running()
        # Until the subscription stands, a message could pass unseen: wait for it briefly; if
        # Redis is away, the waiter still re-reads on its own every SAGA_WAIT_RECHECK_SECONDS.
        self._subscribed.wait(timeout=1.0)
        waiter = Waiter()
        with self._lock:
            self._waiters.setdefault(saga_id, set()).add(waiter)
        return waiter

    def unregister(self, saga_id: int, waiter: Waiter) -> None:
        with self._lock:
            waiters = self._waiters.get(saga_id)
            if waiters is not None:
                waiters.discard(waiter)
                if not waiters:
                    del self._waiters[saga_id]

    def _wake(self, saga_id: int | None, outcome: str | None) -> None:
        """Wake the waiters of one attempt, or every waiter (saga_id None)."""
        with self._lock:
            if saga_id is None:
                woken = [waiter for waiters in self._waiters.values() for waiter in waiters]
            else:
                woken = list(self._waiters.get(saga_id, ()))
        for waiter in woken:
            waiter.outcome = outcome
            waiter.woken.set()

    def _run(self) -> None:
        while True:
            pubsub = None
            try:
                pubsub = redis_client().pubsub()
                pubsub.psubscribe(PATTERN)
                while pubsub.get_message(timeout=5.0) is None:  # the subscription's confirmation
                    pass
                self._subscribed.set()
                self._wake(None, None)  # whatever was published while we were away: everyone re-reads
                for message in pubsub.listen():
                    if message["type"] != "pmessage":
                        continue
                    saga_id = int(message["channel"].split(b":")[1])
                    self._wake(saga_id, message["data"].decode())
            except Exception:
                self._subscribed.clear()
                log.warning("settled listener: subscription lost; waiting checkouts re-read until it is back")
                time.sleep(1.0)
            finally:
                if pubsub is not None:
                    pubsub.close()


_listener = _Listener()


def _read(saga: Saga) -> Saga:
    saga.status, saga.reason, saga.compensated_at = sql_one(
        f"SELECT status, reason, compensated_at FROM {table(Saga)} WHERE id = %s", [saga.pk]
    )
    return saga


def settled_listen(saga_id: int) -> Waiter:
    """Listen for an attempt before it is sent: its waiter will not need to read it first (ADR 0008)."""
    return _listener.register(saga_id)


def settled_unlisten(saga_id: int, waiter: Waiter) -> None:
    _listener.unregister(saga_id, waiter)


def settled_wait(saga: Saga, *, give_up_at: float, waiter: Waiter | None = None) -> Saga:
    """Block until the attempt is settled and return it; raise NotSettled at `give_up_at` (time.monotonic).

    `waiter`, from settled_listen before the attempt was sent, spares the first read: the attempt
    was PENDING when it was registered, and any settle since then reaches it.
    """
    listened = waiter is not None
    if waiter is None:
        waiter = _listener.register(saga.pk)
    try:
        if not listened:  # registered first, read second: a settle in between is not missed
            _read(saga)
        while not settled(saga):
            remaining = give_up_at - time.monotonic()
            if remaining <= 0:
                raise NotSettled(f"attempt {saga.pk} is still {saga.status}")
            waiter.woken.wait(timeout=min(remaining, settings.SAGA_WAIT_RECHECK_SECONDS))
            waiter.woken.clear()  # before taking the outcome: a wake after this one is not lost
            outcome, waiter.outcome = waiter.outcome, None
            if outcome:  # the message says how it settled, after the commit: no need to read it back
                saga.status, _, saga.reason = outcome.partition(" ")
                return saga
            _read(saga)
        return saga
    finally:
        _listener.unregister(saga.pk, waiter)
