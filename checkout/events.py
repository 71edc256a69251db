from django.utils import timezone

from .models import Saga, SagaEvent, Service
from .mypage import mypage_on_event


def event_record(
    *, event_type: str, service: Service, saga: Saga | None = None, order_id: int | None = None, **payload: object
) -> SagaEvent:
    """Append an event to the log, inside the caller's transaction so it commits with the change it describes.

    The "my page" projection folds it in, in the same transaction.
    """
    event = SagaEvent.objects.create(
        order_id=saga.order_id if saga else order_id,
        saga=saga,
        event_type=event_type,
        service=service,
        timestamp=timezone.now(),
        payload={key: value for key, value in payload.items() if value is not None},
    )
    mypage_on_event(event)
    return event
