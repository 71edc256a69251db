"""An order's attempts as swimlanes: what the admin's order page draws (ADR 0007).

Each attempt is one timeline. Its events sit in the lane of the service that recorded
them, left to right in the order they happened, each with its offset from the attempt's
start; the deadline is a column of its own among them, placed where it fell. A second,
proportional strip shows the same events on a real time scale, so an event at +2.9 s of a
3 s deadline looks as close as it was.
"""

import re
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .models import Saga, SagaEvent, SagaStatus, Service
from .selectors import events_of_order
from .templatetags.saga_admin import duration

LANES: tuple[Service, ...] = (Service.ORDERS, Service.EXCHANGES, Service.POINTS, Service.CHECKOUT)

# What an event means for the order, as a colour: the saga moving on, failing, undoing, an operator.
TONES = {
    "OrderPlaced": "ok",
    "ExchangeSucceed": "ok",
    "PointUsed": "ok",
    "CompensationCompleted": "ok",
    "OrderRejected": "bad",
    "DeadlineReached": "bad",
    "ExchangeFailed": "bad",
    "PointUseFailed": "bad",
    "CompensationNeedsAttention": "bad",
}
TONE_BY_SUFFIX = {"Compensated": "undo", "Cancelled": "undo", "Refused": "undo", "Expired": "bad"}
OPERATOR_EVENTS = {"CompensationRetried", "CompensationRedriven"}

# What each event means, for someone who has never seen a saga.
MEANINGS = {
    "OrderCreated": "The order was placed and its checkout attempt started; its deadline starts counting.",
    "CheckoutStarted": "A checkout attempt of the order started; its deadline starts counting.",
    "ExchangeSucceed": "The exchange took the order's currency units out of its stock.",
    "ExchangeFailed": "The exchange could not take the units (not enough stock, or an unknown currency).",
    "ExchangeCompensated": "Undo: the exchange put the units back into its stock.",
    "ExchangeCancelled": "Undo of an exchange step that had not run: a marker, so that if it runs late it is refused.",
    "ExchangeRefused": "The exchange step arrived after the order was rejected and was refused: nothing was taken.",
    "ExchangeExpired": "The exchange step started after the deadline and did nothing.",
    "PointUsed": "The points were debited from the holder's account (point: the balance after).",
    "PointUseFailed": "The points could not be debited (balance too low, or no such account).",
    "PointUseCompensated": "Undo: the points were given back to the holder.",
    "PointUseCancelled": "Undo of a points step that had not run: a marker, so that if it runs late it is refused.",
    "PointUseRefused": "The points step arrived after the order was rejected and was refused: nothing was debited.",
    "PointUseExpired": "The points step started after the deadline and did nothing.",
    "OrderPlaced": "Every step was done in time: the order is approved.",
    "OrderRejected": "The order is rejected (reason given); every step that may have been applied is undone next.",
    "DeadlineReached": "The deadline passed before the order was approved (latenessMs: how late this was noticed).",
    "CompensationCompleted": "Every undo has run: nothing of the order remains applied.",
    "CompensationRedriven": "The undo had not finished, so the sweeper sent it again.",
    "CompensationNeedsAttention": "The undo still had not finished after every re-send: a person must look.",
    "CompensationRetried": "An operator sent the undo again (by: who).",
}
QUIET_KEYS = {"id", "holderId", "userId", "lines", "currencyId", "amount", "deadline", "attempt"}


@dataclass
class TimelineEvent:
    event: SagaEvent
    lane: int  # index in LANES
    column: int  # 0-based, among the attempt's columns
    offset_ms: int
    percent: float  # position on the proportional strip
    tone: str
    after_deadline: bool

    @property
    def event_type(self) -> str:
        return self.event.event_type

    @property
    def service(self) -> str:
        return self.event.service

    @property
    def label(self) -> SafeString:
        """The event type, allowed to wrap between its words: `PointUse<wbr>Cancelled`."""
        return mark_safe(re.sub(r"(?<=[a-z])(?=[A-Z])", "<wbr>", escape(self.event.event_type)))

    @property
    def offset_text(self) -> str:
        return f"+{duration(self.offset_ms)}"

    @property
    def details(self) -> str:
        """The payload worth reading on the chip: `reason: POINT_LIMIT`, `by: alice` (a marker's zeros are not)."""
        payload = self.event.payload
        shown = {key: value for key, value in payload.items() if key not in QUIET_KEYS}
        if self.event_type != "PointUsed":  # there, point 0 is a balance spent to the last point
            shown = {key: value for key, value in shown.items() if value not in (0, "", None, [])}
        return ", ".join(f"{key}: {value}" for key, value in shown.items())

    @property
    def meaning(self) -> str:
        return MEANINGS.get(self.event_type, "")

    @property
    def payload_text(self) -> str:
        return "\n".join(f"{key}: {value}" for key, value in self.event.payload.items())

    @property
    def grid_column(self) -> int:
        return self.column + 2  # after the lane names

    @property
    def grid_row(self) -> int:
        return self.lane + 1


@dataclass
class AttemptTimeline:
    saga: Saga
    started_at: datetime
    deadline_ms: int
    deadline_column: int
    column_count: int  # the deadline's included
    deadline_percent: float
    span_ms: int
    events: list[TimelineEvent] = field(default_factory=list)
    now_ms: int | None = None  # for an attempt still PENDING: where "now" is
    now_percent: float | None = None

    @property
    def glossary(self) -> list[tuple[str, str]]:
        """What the events of this attempt mean, each type once, in the order they first happened."""
        seen = dict.fromkeys(e.event_type for e in self.events)
        return [(event_type, MEANINGS.get(event_type, "")) for event_type in seen]

    @property
    def lanes(self) -> list[tuple[int, str]]:
        return [(index + 1, lane.label) for index, lane in enumerate(LANES)]

    @property
    def deadline_grid_column(self) -> int:
        return self.deadline_column + 2

    @property
    def grid_template(self) -> str:
        """Lane names, the columns before the deadline, the deadline (narrow), the columns after it."""
        event = "minmax(7rem, 1fr)"
        before, after = self.deadline_column, self.column_count - self.deadline_column - 1
        return " ".join(["5.5rem", *[event] * before, "3.8rem", *[event] * after])

    @property
    def deadline_text(self) -> str:
        return f"+{duration(self.deadline_ms, digits=1)}"

    @property
    def deadline_label_left(self) -> bool:
        """Near the right edge of the strip, the deadline's label goes on the left of its line."""
        return self.deadline_percent > 70

    @property
    def span_text(self) -> str:
        return f"+{duration(self.span_ms, digits=1)}"

    @property
    def summary(self) -> str:
        saga = self.saga
        if saga.status == SagaStatus.PENDING:
            left = self.deadline_ms - (self.now_ms or 0)
            if left >= 0:
                return f"in flight: {duration(left)} left before its deadline"
            return f"in flight, {duration(-left)} past its deadline: the sweeper should reject it"
        decided = _ms_between(self.started_at, saga.decided_at)
        if saga.status == SagaStatus.APPROVED:
            return f"approved {duration(decided)} after it started (its deadline was {duration(self.deadline_ms)})"
        text = f"rejected due to {saga.reason.replace('_', ' ').lower()} {duration(decided)} after it started"
        if saga.compensated_at:
            return f"{text}; every step undone {duration(_ms_between(self.started_at, saga.compensated_at))} after"
        if saga.needs_attention:
            return f"{text}; its compensation did not finish: it needs an operator"
        return f"{text}; compensation under way"


def _ms_between(start: datetime, end: datetime) -> int:
    return round((end - start).total_seconds() * 1000)


def _tone(event_type: str) -> str:
    if event_type in TONES:
        return TONES[event_type]
    if event_type in OPERATOR_EVENTS:
        return "operator"
    for suffix, tone in TONE_BY_SUFFIX.items():
        if event_type.endswith(suffix):
            return tone
    return "info"


def _lane(service: str) -> int:
    return LANES.index(service) if service in LANES else LANES.index(Service.CHECKOUT)


def _columns(lanes: list[int], after: list[bool]) -> tuple[list[int], int, int]:
    """Columns for events in time order, read top to bottom then left to right, as a staircase.

    An event shares the previous event's column when its lane is lower down (and both are on
    the same side of the deadline); otherwise it starts the next column. Returns each event's
    column, the deadline's column (between the events before and after it) and how many.
    """
    columns, column = [], -1
    for index, lane in enumerate(lanes):
        shares = index > 0 and lane > lanes[index - 1] and after[index] == after[index - 1]
        column += 0 if shares else 1
        columns.append(column)
    before = [c for c, late in zip(columns, after, strict=True) if not late]
    deadline = before[-1] + 1 if before else 0
    columns = [c + 1 if late else c for c, late in zip(columns, after, strict=True)]
    return columns, deadline, max([deadline, *columns]) + 1


def attempt_timeline(saga: Saga, events: list[SagaEvent], *, now: datetime) -> AttemptTimeline:
    """Lay one attempt's events out in lanes and columns, with the deadline as a column of its own."""
    started_at = saga.created_at
    deadline_ms = _ms_between(started_at, saga.deadline_at)
    offsets = [max(0, _ms_between(started_at, event.timestamp)) for event in events]
    now_ms = _ms_between(started_at, now) if saga.status == SagaStatus.PENDING else None
    span_ms = max([deadline_ms, *offsets, now_ms or 0]) or 1
    span_ms = round(span_ms * 1.04)  # room for the last label
    lanes = [_lane(event.service) for event in events]
    # On the timestamps themselves, as _expired decides: rounded to ms, an event a fraction of a
    # millisecond before the deadline would be drawn after it.
    after = [event.timestamp >= saga.deadline_at for event in events]
    columns, deadline_column, column_count = _columns(lanes, after)
    timeline = AttemptTimeline(
        saga=saga,
        started_at=started_at,
        deadline_ms=deadline_ms,
        deadline_column=deadline_column,
        column_count=column_count,
        deadline_percent=100 * deadline_ms / span_ms,
        span_ms=span_ms,
        now_ms=now_ms,
        now_percent=None if now_ms is None else 100 * now_ms / span_ms,
    )
    for event, offset, lane, column, late in zip(events, offsets, lanes, columns, after, strict=True):
        timeline.events.append(
            TimelineEvent(
                event=event,
                lane=lane,
                column=column,
                offset_ms=offset,
                percent=100 * offset / span_ms,
                tone=_tone(event.event_type),
                after_deadline=late,
            )
        )
    return timeline


def order_timeline(order_id: int, *, now: datetime | None = None) -> tuple[list[AttemptTimeline], list[SagaEvent]]:
    """Every attempt of the order as a timeline, newest first; and the order's events outside any attempt."""
    now = now or timezone.now()
    events = list(events_of_order(order_id))
    by_saga: dict[int, list[SagaEvent]] = {}
    for event in events:
        by_saga.setdefault(event.saga_id, []).append(event)
    attempts = Saga.objects.filter(order_id=order_id).order_by("-attempt")
    timelines = [attempt_timeline(saga, by_saga.get(saga.pk, []), now=now) for saga in attempts]
    return timelines, by_saga.get(None, [])
