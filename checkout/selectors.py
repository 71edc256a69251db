from django.db.models import QuerySet

from .models import Saga, SagaEvent

RECENT_EVENTS = 1000


def events_of_order(order_id: int) -> QuerySet[SagaEvent]:
    """One order's events in the order they happened."""
    return SagaEvent.objects.filter(order_id=order_id).order_by("timestamp", "id")


def events_recent(limit: int = RECENT_EVENTS) -> list[SagaEvent]:
    """The newest `limit` events, oldest first."""
    newest = SagaEvent.objects.order_by("-timestamp", "-id")[:limit]
    return list(reversed(newest))


def deadlines() -> QuerySet[Saga]:
    return Saga.objects.order_by("id")
