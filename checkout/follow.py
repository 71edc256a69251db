"""Follow the event log as it grows: the seed's `kafka-console-consumer`, for one order or all.

Events are read in pages by time; an event is yielded once. A transaction may commit
an event after a later id became visible, so each poll looks back LOOKBACK seconds and
skips what it already yielded.
"""

import time
from collections.abc import Callable, Iterator
from datetime import timedelta

from django.db import close_old_connections
from django.utils import timezone

from .models import SagaEvent

LOOKBACK = timedelta(seconds=5)


def events_follow(
    *,
    order_id: int | None = None,
    from_beginning: bool = True,
    follow: bool = True,
    poll_seconds: float = 0.5,
    keep_going: Callable[[], bool] = lambda: True,
) -> Iterator[SagaEvent | None]:
    """Yield the events (of one order, or all) in time order; with `follow`, also those to come.

    While following, yields None after every poll that found nothing, so a caller can send
    a keep-alive or stop.
    """
    events = SagaEvent.objects.order_by("timestamp", "id")
    if order_id is not None:
        events = events.filter(order_id=order_id)
    seen: dict[int, object] = {}
    since = None if from_beginning else timezone.now()
    if since is not None:  # what is already there, even within the look-back, is not news
        seen = dict(events.filter(timestamp__gte=since - LOOKBACK).values_list("pk", "timestamp"))
    while True:
        page = events if since is None else events.filter(timestamp__gte=since - LOOKBACK)
        found = False
        for event in page.iterator():
            if event.pk in seen:
                continue
            seen[event.pk] = event.timestamp
            found = True
            yield event
        if not follow or not keep_going():
            return
        since = timezone.now() if since is None else max(since, timezone.now() - LOOKBACK)
        horizon = timezone.now() - 2 * LOOKBACK
        for pk in [pk for pk, at in seen.items() if at < horizon]:
            del seen[pk]
        if not found:
            yield None
        close_old_connections()
        time.sleep(poll_seconds)
