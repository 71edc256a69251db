import logging
from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from config.sql import Write, sql_insert

from .models import Saga, SagaEvent, Service
from .mypage import mypage_event_ops

log = logging.getLogger(__name__)


def event_record(
    *,
    event_type: str,
    service: Service,
    saga: Saga | None = None,
    order_id: int | None = None,
    along: Sequence[Write] = (),
    **payload: object,
) -> SagaEvent:
    """Append an event to the log, inside the caller's transaction so it commits with the change it describes.

    The "my page" projection folds it in, in the same statement, and so do the `along` writes
    of the change itself (the order's status for a transition: ADR 0008). Once the transaction
    commits, the event is also logged (one INFO line): the log mirrors the event log,
    never an event that was rolled back.
    """
    event = SagaEvent(
        order_id=saga.order_id if saga else order_id,
        saga=saga,
        event_type=event_type,
        service=service,
        timestamp=timezone.now(),
        payload={key: value for key, value in payload.items() if value is not None},
    )
    sql_insert(event, along=[*along, *mypage_event_ops(event)])  # one statement (ADR 0008)
    if log.isEnabledFor(logging.INFO):  # off in the production profile (SAGA_EVENT_LOG_LINES)
        transaction.on_commit(lambda: _log(event))
    return event


def _log(event: SagaEvent) -> None:
    ids = {"orderId": event.order_id, "sagaId": event.saga_id}
    log.info("%s", event.event_type, extra={"eventType": event.event_type, **ids, "service": event.service})
