"""Wake the requests that wait for an attempt to settle (ADR 0004).

An attempt is settled when it is APPROVED, or REJECTED with every compensation done.
The transactions that settle it publish on `saga:{id}:settled` after they commit; a
waiter subscribes first, then reads, so it cannot miss the moment. Pub/sub may drop a
message (a reconnect), so a waiter also re-reads every SAGA_WAIT_RECHECK_SECONDS.
"""

import time

from django.conf import settings
from django.db import transaction

from .locks import redis_client
from .models import Saga, SagaStatus


class NotSettled(Exception):
    """The attempt was still unsettled when the wait gave up."""


def _channel(saga_id: int) -> str:
    return f"saga:{saga_id}:settled"


def settled(saga: Saga) -> bool:
    return saga.status == SagaStatus.APPROVED or (
        saga.status == SagaStatus.REJECTED and saga.compensated_at is not None
    )


def settled_announce(saga_id: int) -> None:
    """Publish, once the current transaction commits, that the attempt settled."""
    transaction.on_commit(lambda: redis_client().publish(_channel(saga_id), "settled"), robust=True)


def settled_wait(saga_id: int, *, give_up_at: float) -> Saga:
    """Block until the attempt is settled and return it; raise NotSettled at `give_up_at` (time.monotonic)."""
    pubsub = redis_client().pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(_channel(saga_id))
    try:
        while True:
            saga = Saga.objects.get(pk=saga_id)
            if settled(saga):
                return saga
            remaining = give_up_at - time.monotonic()
            if remaining <= 0:
                raise NotSettled(f"attempt {saga_id} is still {saga.status}")
            pubsub.get_message(timeout=min(remaining, settings.SAGA_WAIT_RECHECK_SECONDS))
    finally:
        pubsub.close()
