"""The transactional outbox (ADR 0005): what the saga sends is written with the decision.

`outbox_add` stores a message in the caller's transaction and publishes it right after
commit. If the process dies in between, or the broker is down, the message stays
unpublished and the beat relay publishes it. Publishing twice is harmless: every
consumer is idempotent.

The fast path sends what it holds in memory and then marks the row published in one
statement, without locking it (docs/adr/0008-cost-per-saga.md): the relay takes only
messages older than SAGA_OUTBOX_RELAY_AFTER_SECONDS, and if it ever overlaps the fast
path the message goes out twice, which the consumers absorb.
"""

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from config.logs import log_bind, log_scope
from config.sql import sql_insert, sql_run, table

from .locks import sweep_lock
from .models import OutboxKind, OutboxMessage, Saga
from .saga import STEP_BY_SERVICE, compensation_chain, deadline_countdown, step_chain

log = logging.getLogger(__name__)


def outbox_add(*, saga: Saga, kind: OutboxKind, payload: dict | None = None) -> OutboxMessage:
    message = OutboxMessage(saga=saga, kind=kind, payload=payload or {})
    sql_insert(message)
    transaction.on_commit(lambda: publish_after_commit(message), robust=True)
    return message


def publish_after_commit(message: OutboxMessage) -> None:
    """The fast path; a test replaces it to play a process that died right after commit."""
    _send(message)
    sql_run(
        f"UPDATE {table(OutboxMessage)} SET published_at = COALESCE(published_at, %s),"
        " publish_count = publish_count + 1 WHERE id = %s",
        [timezone.now(), message.pk],
    )


def outbox_publish(message_id: int) -> bool:
    """Send one message unless it was already sent; False if there was nothing to send."""
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .select_related("saga")
            .filter(pk=message_id, published_at=None)
            .first()
        )
        if message is None:
            return False
        log_bind(orderId=message.saga.order_id, sagaId=message.saga_id)
        _send(message)
        OutboxMessage.objects.filter(pk=message_id).update(
            published_at=timezone.now(), publish_count=message.publish_count + 1
        )
        return True


def _send(message: OutboxMessage) -> None:
    saga = message.saga
    if message.kind == OutboxKind.START:
        step_chain(saga.pk).apply_async()
        deadline_countdown(saga.pk).apply_async(eta=saga.deadline_at)
    else:
        steps = tuple(STEP_BY_SERVICE[service] for service in message.payload["steps"])
        compensation_chain(saga.pk, steps).apply_async()


def outbox_relay(*, older_than_seconds: float, limit: int = 500) -> int | None:
    """Publish what the fast path left behind; return how many messages were sent.

    At most `limit` per run, and never two relays at once: returns None at once if another
    relay holds the lock (ADR 0009).
    """
    with sweep_lock("checkout.outbox_relay") as mine:
        if not mine:
            return None
        return _relay(older_than_seconds=older_than_seconds, limit=limit)


def _relay(*, older_than_seconds: float, limit: int) -> int:
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    pending = list(
        OutboxMessage.objects.filter(published_at=None, created_at__lt=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    sent = 0
    for message_id in pending:
        with log_scope():  # each message's lines carry its own saga, the relay's own lines none
            try:
                sent += outbox_publish(message_id)
            except Exception:  # the broker is still down: try again on the next round
                log.exception("outbox message %s: publishing failed", message_id)
                break
    return sent
