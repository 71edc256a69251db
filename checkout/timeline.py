"""An order's attempts as swimlanes on one time axis: what the admin's order page draws (ADR 0007).

Each attempt is one chart. Its events are dots in the lane of the service that recorded them,
placed on ONE time axis shared by the lanes and the deadline. The axis is to scale, except
that a gap longer than everything else drawn together (10 s of waiting between bursts a few
milliseconds long) is cut down to a fixed-width break, marked with its real duration
("⋯ 9.960 s ⋯"). Events closer than a dot's width are nudged apart, in time order, so that
each one is visible and can be hovered; the deadline is one line on that same axis, between
the events before it and those after it. Every coordinate is computed here, in the units of
the drawing's viewBox, so that the geometry is tested in Python and the template only draws.
"""

import re
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from .models import Saga, SagaEvent, SagaStatus
from .selectors import events_of_order
from .templatetags.saga_admin import clock, duration, offset, seconds

LANES: tuple[str, ...] = ("orders", "exchanges", "points", "checkout")

# The drawing, in viewBox units (about pixels on a 1400 px wide page).
TRACK = 1040.0  # the time axis's width, when its events fit
LEFT = 92.0  # lane names
RIGHT = 28.0  # room after the last event
TOP = 34.0  # above the lanes: the deadline's label
LANE_HEIGHT = 52.0
BOTTOM = 66.0  # below the lanes: the axis's ticks, the breaks' lengths, then the scale
DOT = 18.0  # a dot's diameter
EVENT_GAP = DOT + 6  # consecutive events are at least this far apart, whatever their lanes
MARK_GAP = DOT / 2 + 4  # an event and the deadline (or "now") line
BREAK = 96.0  # a compressed gap's width
BREAK_SHARE = 0.5  # a gap longer than this share of the time still drawn to scale is compressed ...
BREAK_MIN_MS = 1000  # ... if it lasts a second at least (shorter waits stay to scale)
TICK_ROOM = 76.0  # two tick labels closer than this: the second is left out
LABEL_CHAR = 6.9  # a label's width per character, at most (11 px sans-serif)

# What an event means for the order, as a tone: (tone, what the legend says about it).
TONE_NAMES = {
    "neutral": "started",
    "applied": "step applied",
    "approved": "approved",
    "rejected": "rejected, or a step failed",
    "undone": "undone (compensation)",
    "refused": "late work turned away (refused, expired)",
    "operator": "recovery or operator",
}
TONES = {
    "OrderCreated": "neutral",
    "CheckoutStarted": "neutral",
    "ExchangeSucceed": "applied",
    "PointUsed": "applied",
    "OrderPlaced": "approved",
    "OrderRejected": "rejected",
    "DeadlineReached": "rejected",
    "ExchangeFailed": "rejected",
    "PointUseFailed": "rejected",
    "ExchangeCompensated": "undone",
    "PointUseCompensated": "undone",
    "ExchangeCancelled": "undone",  # the tombstone of a step that had not run: an undo all the same
    "PointUseCancelled": "undone",
    "CompensationCompleted": "undone",
    "ExchangeRefused": "refused",  # a late step refused by its tombstone: the protection working
    "PointUseRefused": "refused",
    "ExchangeExpired": "refused",
    "PointUseExpired": "refused",
    "CompensationRedriven": "operator",
    "CompensationNeedsAttention": "operator",
    "CompensationRetried": "operator",
}
TONE_BY_SUFFIX = {
    "Succeed": "applied",
    "Used": "applied",
    "Failed": "rejected",
    "Compensated": "undone",
    "Cancelled": "undone",
    "Refused": "refused",
    "Expired": "refused",
}

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


def tone(event_type: str) -> str:
    """The tone of an event type: named in TONES, else by its suffix, else neutral."""
    if event_type in TONES:
        return TONES[event_type]
    for suffix, name in TONE_BY_SUFFIX.items():
        if event_type.endswith(suffix):
            return name
    return "neutral"


@dataclass
class TimelineEvent:
    event: SagaEvent
    number: int  # 1-based, in time order: the dot's and the list's
    lane: int  # index in LANES
    offset_ms: int
    x: float  # on the axis, viewBox units
    tone: str
    after_deadline: bool
    label_shown: bool = False  # its name fits under its dot, clear of the lane's other names
    label_anchor: str = "start"  # or "end": the name ends at the dot's right edge

    @property
    def event_type(self) -> str:
        return self.event.event_type

    @property
    def service(self) -> str:
        return self.event.service

    @property
    def y(self) -> float:
        return TOP + self.lane * LANE_HEIGHT + LANE_HEIGHT * 0.38

    @property
    def label_x(self) -> float:
        return self.x - DOT / 2 if self.label_anchor == "start" else self.x + DOT / 2

    @property
    def label_y(self) -> float:
        return self.y + DOT / 2 + 13

    @property
    def label(self) -> SafeString:
        """The event type, allowed to wrap between its words: `PointUse<wbr>Cancelled`."""
        return mark_safe(re.sub(r"(?<=[a-z])(?=[A-Z])", "<wbr>", escape(self.event.event_type)))

    @property
    def offset_text(self) -> str:
        return offset(self.offset_ms)

    @property
    def clock_text(self) -> str:
        return clock(self.event.timestamp)

    @property
    def details(self) -> str:
        """The payload worth reading: `reason: POINT_LIMIT`, `by: alice` (a marker's zeros are not)."""
        payload = self.event.payload
        shown = {key: value for key, value in payload.items() if key not in QUIET_KEYS}
        if self.event_type != "PointUsed":  # there, point 0 is a balance spent to the last point
            shown = {key: value for key, value in shown.items() if value not in (0, "", None, [])}
        return ", ".join(f"{key}: {value}" for key, value in shown.items())

    @property
    def meaning(self) -> str:
        return MEANINGS.get(self.event_type, "")

    @property
    def tone_name(self) -> str:
        return TONE_NAMES[self.tone]

    @property
    def payload_text(self) -> str:
        return "\n".join(f"{key}: {value}" for key, value in self.event.payload.items())


@dataclass
class Break:
    """A compressed gap: drawn BREAK wide whatever it lasted; its label says how long."""

    x_start: float
    x_end: float
    ms: int

    @property
    def x_mid(self) -> float:
        return (self.x_start + self.x_end) / 2

    @property
    def text(self) -> str:
        return f"⋯ {seconds(self.ms)} ⋯"


@dataclass
class Tick:
    x: float
    ms: int

    @property
    def text(self) -> str:
        return offset(self.ms)


@dataclass
class AttemptTimeline:
    saga: Saga
    started_at: datetime
    deadline_ms: int
    deadline_x: float
    width: float  # of the drawing, viewBox units
    events: list[TimelineEvent] = field(default_factory=list)
    breaks: list[Break] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    ms_per_unit: float | None = None  # the scale of the parts drawn to scale (None: nothing is)
    scale_bar: tuple[float, int] | None = None  # (width, ms): a round duration drawn to scale
    now_ms: int | None = None  # for an attempt still PENDING: where "now" is
    now_x: float | None = None

    @property
    def height(self) -> float:
        return TOP + len(LANES) * LANE_HEIGHT + BOTTOM

    @property
    def lanes(self) -> list[tuple[str, float, float]]:
        """(name, top, the name's baseline) for each lane."""
        return [
            (name, TOP + index * LANE_HEIGHT, TOP + index * LANE_HEIGHT + LANE_HEIGHT * 0.38 + 4)
            for index, name in enumerate(LANES)
        ]

    @property
    def lanes_bottom(self) -> float:
        return TOP + len(LANES) * LANE_HEIGHT

    @property
    def axis_end(self) -> float:
        return self.width - RIGHT / 2

    @property
    def deadline_text(self) -> str:
        return f"deadline {offset(self.deadline_ms)}"

    @property
    def deadline_anchor(self) -> str:
        """The deadline's label runs to the left of its line near the drawing's right edge."""
        return "end" if self.deadline_x > self.width - 150 else "start"

    @property
    def deadline_label_x(self) -> float:
        return self.deadline_x - 5 if self.deadline_anchor == "end" else self.deadline_x + 5

    @property
    def before_deadline(self) -> int:
        """How many events came before the deadline (where the event table shows it)."""
        return sum(not e.after_deadline for e in self.events)

    @property
    def svg(self) -> SafeString:
        return timeline_svg(self)

    @property
    def scale_text(self) -> str:
        return "" if self.scale_bar is None else f"{duration(self.scale_bar[1])} to scale"

    @property
    def tones(self) -> list[tuple[str, str]]:
        """The tones of this attempt's events, legend order."""
        present = {e.tone for e in self.events}
        return [(name, text) for name, text in TONE_NAMES.items() if name in present]

    @property
    def summary(self) -> str:
        saga = self.saga
        if saga.status == SagaStatus.PENDING:
            left = self.deadline_ms - (self.now_ms or 0)
            if left >= 0:
                return f"in flight: {seconds(left)} left before its deadline"
            return f"in flight, {seconds(-left)} past its deadline: the sweeper should reject it"
        decided = _ms_between(self.started_at, saga.decided_at)
        if saga.status == SagaStatus.APPROVED:
            return f"approved {seconds(decided)} after it started (its deadline was {seconds(self.deadline_ms)})"
        text = f"rejected due to {saga.reason.replace('_', ' ').lower()} {seconds(decided)} after it started"
        if saga.compensated_at:
            undone = seconds(_ms_between(self.started_at, saga.compensated_at))
            return f"{text}; every step undone {undone} after it started"
        if saga.needs_attention:
            return f"{text}; its compensation did not finish: it needs an operator"
        return f"{text}; compensation under way"


def _ms_between(start: datetime, end: datetime) -> int:
    return round((end - start).total_seconds() * 1000)


def _lane(service: str) -> int:
    return LANES.index(service) if service in LANES else LANES.index("checkout")


@dataclass
class _Mark:
    """A thing on the axis, in time order: an event (its index), the deadline or now."""

    ms: int
    kind: str  # "start" | "event" | "deadline" | "now"
    index: int = -1


def _compressed(gaps: list[int]) -> set[int]:
    """The gaps to cut down: one at a time, the longest while it is longer than the rest drawn to scale."""
    cut: set[int] = set()
    while True:
        open_gaps = [(g, i) for i, g in enumerate(gaps) if i not in cut]
        if not open_gaps:
            return cut
        longest, index = max(open_gaps)
        if longest < BREAK_MIN_MS or longest <= BREAK_SHARE * sum(g for g, _ in open_gaps):
            return cut
        cut.add(index)


def _separation(before: _Mark, after: _Mark) -> float:
    if before.kind == "event" and after.kind == "event":
        return EVENT_GAP
    if "start" in (before.kind, after.kind):
        return 0.0
    return MARK_GAP


def _positions(marks: list[_Mark], cut: set[int], scale: float) -> list[float]:
    """Each mark's x at `scale` units per ms: to scale, a cut gap BREAK wide, never closer than allowed."""
    xs = [0.0]
    for i in range(1, len(marks)):
        gap = marks[i].ms - marks[i - 1].ms
        step = BREAK if (i - 1) in cut else gap * scale
        xs.append(xs[-1] + max(step, _separation(marks[i - 1], marks[i])))
    return xs


def _fit(marks: list[_Mark], cut: set[int]) -> tuple[list[float], float | None]:
    """The largest scale at which the marks fit TRACK (nudged events included); (xs, units per ms)."""
    to_scale = sum(marks[i + 1].ms - marks[i].ms for i in range(len(marks) - 1) if i not in cut)
    if to_scale <= 0:
        return _positions(marks, cut, 0.0), None
    low, high = 0.0, TRACK / to_scale
    if _positions(marks, cut, high)[-1] <= TRACK:
        return _positions(marks, cut, high), high
    for _ in range(40):  # the width grows with the scale: bisect
        middle = (low + high) / 2
        if _positions(marks, cut, middle)[-1] <= TRACK:
            low = middle
        else:
            high = middle
    return _positions(marks, cut, low), low or None


def _nice_ms(scale: float) -> int | None:
    """A round duration that draws 50 to 130 units wide at `scale`."""
    for ms in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 60_000, 120_000, 300_000):
        if 50 <= ms * scale <= 130:
            return ms
    return None


def attempt_timeline(saga: Saga, events: list[SagaEvent], *, now: datetime) -> AttemptTimeline:
    """Lay one attempt's events out on one time axis with its deadline: to scale, long gaps cut and marked."""
    started_at = saga.created_at
    deadline_ms = _ms_between(started_at, saga.deadline_at)
    offsets = [max(0, _ms_between(started_at, event.timestamp)) for event in events]
    # On the timestamps themselves, as _expired decides: rounded to ms, an event a fraction of a
    # millisecond before the deadline would be drawn after it.
    after = [event.timestamp >= saga.deadline_at for event in events]
    now_ms = _ms_between(started_at, now) if saga.status == SagaStatus.PENDING else None

    # Time order; at one ms, events before the deadline, the deadline, then the events after it.
    marks = [_Mark(ms, "event", index) for index, ms in enumerate(offsets)]
    marks.append(_Mark(deadline_ms, "deadline"))
    if now_ms is not None:
        marks.append(_Mark(max(0, now_ms), "now"))
    rank = {"deadline": 1, "now": 3}
    marks.sort(key=lambda m: (m.ms, rank.get(m.kind, 2 if m.kind == "event" and after[m.index] else 0), m.index))
    marks.insert(0, _Mark(0, "start"))

    gaps = [marks[i + 1].ms - marks[i].ms for i in range(len(marks) - 1)]
    cut = _compressed(gaps)
    xs, scale = _fit(marks, cut)
    xs = [LEFT + x for x in xs]
    width = xs[-1] + RIGHT

    timeline = AttemptTimeline(
        saga=saga,
        started_at=started_at,
        deadline_ms=deadline_ms,
        deadline_x=0.0,
        width=round(width, 1),
        now_ms=now_ms,
        ms_per_unit=None if scale is None else 1 / scale,
    )
    placed: dict[int, float] = {}
    for mark, x in zip(marks, xs, strict=True):
        if mark.kind == "deadline":
            timeline.deadline_x = round(x, 1)
        elif mark.kind == "now":
            timeline.now_x = round(x, 1)
        elif mark.kind == "event":
            placed[mark.index] = round(x, 1)
    timeline.breaks = [Break(round(xs[i], 1), round(xs[i + 1], 1), gaps[i]) for i in sorted(cut)]
    for number, index in enumerate(sorted(placed, key=placed.__getitem__), start=1):
        timeline.events.append(
            TimelineEvent(
                event=events[index],
                number=number,
                lane=_lane(events[index].service),
                offset_ms=offsets[index],
                x=placed[index],
                tone=tone(events[index].event_type),
                after_deadline=after[index],
            )
        )
    _place_labels(timeline)
    timeline.ticks = _ticks(marks, xs, cut)
    if scale:
        nice = _nice_ms(scale)
        timeline.scale_bar = None if nice is None else (round(nice * scale, 1), nice)
    return timeline


def _place_labels(timeline: AttemptTimeline) -> None:
    """An event's name goes under its dot, reading right from it (or, at the drawing's right edge, ending
    at it), where it clears the lane's previous name."""
    ends = [0.0] * len(LANES)
    for event in timeline.events:
        width = len(event.event_type) * LABEL_CHAR
        start = event.x - DOT / 2
        if start + width > timeline.width - 4:
            start, event.label_anchor = event.x + DOT / 2 - width, "end"
        event.label_shown = start >= ends[event.lane] + 8 and start >= 4
        if event.label_shown:
            ends[event.lane] = start + width


def _ticks(marks: list[_Mark], xs: list[float], cut: set[int]) -> list[Tick]:
    """Ticks where each part drawn to scale starts and ends; none crowding the one before."""
    edges = {0, len(marks) - 1} | {i for i in cut} | {i + 1 for i in cut}
    ticks: list[Tick] = []
    for i in sorted(edges):
        if ticks and xs[i] - ticks[-1].x < TICK_ROOM:
            continue
        ticks.append(Tick(round(xs[i], 1), marks[i].ms))
    return ticks


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


def _n(value: float) -> str:
    return f"{value:.1f}"


def timeline_svg(tl: AttemptTimeline) -> SafeString:
    """The drawing of one attempt: lanes, breaks, the axis and its ticks, the deadline, the event dots."""
    bottom = tl.lanes_bottom
    parts = [
        format_html(
            '<defs><pattern id="saga-hatch-{}" width="7" height="7" patternUnits="userSpaceOnUse" '
            'patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="7" class="saga-hatch"/></pattern></defs>',
            tl.saga.pk,
        )
    ]
    for index, (name, top, baseline) in enumerate(tl.lanes):
        parts.append(
            format_html(
                '<rect class="saga-lane-band{}" x="0" y="{}" width="{}" height="{}"/>'
                '<text class="saga-lane-name" x="8" y="{}">{}</text>',
                " odd" if index % 2 else "",
                _n(top),
                _n(tl.width),
                _n(LANE_HEIGHT),
                _n(baseline),
                name,
            )
        )
    for b in tl.breaks:
        parts.append(
            format_html(
                '<g class="saga-break" data-ms="{}">'
                '<rect x="{}" y="{}" width="{}" height="{}" fill="url(#saga-hatch-{})"/>'
                '<rect class="saga-break-plate" x="{}" y="{}" width="{}" height="18" rx="3"/>'
                '<text x="{}" y="{}" text-anchor="middle">{}</text>'
                "<title>{} of waiting, not drawn to scale</title></g>",
                b.ms,
                _n(b.x_start + 6),
                _n(TOP - 6),
                _n(b.x_end - b.x_start - 12),
                _n(bottom - TOP + 12),
                tl.saga.pk,
                _n(b.x_mid - BREAK / 2 + 2),
                _n(bottom + 6),
                _n(BREAK - 4),
                _n(b.x_mid),
                _n(bottom + 19),
                b.text,
                seconds(b.ms),
            )
        )
    # The axis: a line per part drawn to scale, with a zigzag where a break cuts it.
    start = LEFT
    for b in tl.breaks:
        parts.append(_axis_segment(start, b.x_start + 6, bottom))
        for x in (b.x_start + 4, b.x_end - 16):
            parts.append(format_html('<path class="saga-axis-cut" d="M{} {} l4 -6 l4 12 l4 -6"/>', _n(x), _n(bottom)))
        start = b.x_end - 6
    parts.append(_axis_segment(start, tl.axis_end, bottom))
    for t in tl.ticks:
        at_break = any(b.x_start - 2 <= t.x <= b.x_end + 2 for b in tl.breaks)
        y = bottom + (38 if at_break else 18)  # under a break's label
        parts.append(
            format_html(
                '<line class="saga-tick" x1="{x}" x2="{x}" y1="{}" y2="{}"/>'
                '<text class="saga-tick-label" x="{x}" y="{}" text-anchor="middle">{}</text>',
                _n(bottom),
                _n(bottom + 5),
                _n(y),
                t.text,
                x=_n(t.x),
            )
        )
    if tl.scale_bar:
        bar, _ms = tl.scale_bar
        parts.append(
            format_html(
                '<g class="saga-scale"><path d="M{} {y} v-4 v8 v-4 h{} v-4 v8"/><text x="{}" y="{}">{}</text></g>',
                _n(8),
                _n(bar),
                _n(8 + bar + 6),
                _n(bottom + 58),
                tl.scale_text,
                y=_n(bottom + 54),
            )
        )
    if tl.now_x is not None:
        parts.append(
            format_html(
                '<g class="saga-now"><line x1="{x}" x2="{x}" y1="{}" y2="{}"/>'
                '<text x="{x}" y="{}" dx="4">now</text></g>',
                _n(TOP - 4),
                _n(bottom),
                _n(TOP + 6),
                x=_n(tl.now_x),
            )
        )
    parts.append(
        format_html(
            '<g class="saga-deadline" data-deadline-ms="{}"><line x1="{x}" x2="{x}" y1="{}" y2="{}"/>'
            '<text x="{}" y="{}" text-anchor="{}">{}</text></g>',
            tl.deadline_ms,
            _n(TOP - 20),
            _n(bottom + 4),
            _n(tl.deadline_label_x),
            _n(TOP - 10),
            tl.deadline_anchor,
            tl.deadline_text,
            x=_n(tl.deadline_x),
        )
    )
    for e in tl.events:
        parts.append(
            format_html(
                '<a class="saga-dot tone-{}" href="#saga-event-{}" data-event-type="{}" data-x="{}">'
                "<title>{} · {}\n{} {} UTC\n{}</title>"
                '<circle cx="{}" cy="{}" r="{}"/>'
                '<text class="saga-dot-number" x="{}" y="{}" text-anchor="middle">{}</text>{}</a>',
                e.tone,
                e.event.pk,
                e.event_type,
                _n(e.x),
                e.number,
                e.event_type,
                e.offset_text,
                e.clock_text,
                e.details or e.meaning,
                _n(e.x),
                _n(e.y),
                _n(DOT / 2),
                _n(e.x),
                _n(e.y + 3.5),
                e.number,
                format_html(
                    '<text class="saga-dot-label" x="{}" y="{}" text-anchor="{}">{}</text>',
                    _n(e.label_x),
                    _n(e.label_y),
                    e.label_anchor,
                    e.event_type,
                )
                if e.label_shown
                else "",
            )
        )
    return format_html(
        '<svg class="saga-chart" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="{}">{}</svg>',
        f"Attempt {tl.saga.attempt}: its events on one time axis, and its deadline",
        mark_safe("".join(parts)),
        w=_n(tl.width),
        h=_n(tl.height),
    )


def _axis_segment(x1: float, x2: float, y: float) -> SafeString:
    return format_html('<line class="saga-axis-line" x1="{}" x2="{}" y1="{y}" y2="{y}"/>', _n(x1), _n(x2), y=_n(y))
