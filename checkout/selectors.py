import statistics
from collections import Counter
from datetime import datetime

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


def deadline_lateness(*, since: datetime | None = None, saga_ids: list[int] | None = None) -> dict:
    """How late the deadline rejections were decided: count, by whom, median / p95 / max in ms."""
    events = SagaEvent.objects.filter(event_type="DeadlineReached")
    if since:
        events = events.filter(timestamp__gte=since)
    if saga_ids is not None:
        events = events.filter(saga_id__in=saga_ids)
    payloads = list(events.values_list("payload", flat=True))
    lateness = sorted(p["latenessMs"] for p in payloads)
    fired_by = dict(Counter(p.get("firedBy", "?") for p in payloads))
    if not lateness:
        return {"count": 0, "firedBy": fired_by}
    return {
        "count": len(lateness),
        "firedBy": fired_by,
        "medianMs": statistics.median(lateness),
        "p95Ms": lateness[min(len(lateness) - 1, round(0.95 * (len(lateness) - 1)))],
        "maxMs": lateness[-1],
    }
