"""An attempt's timeline (checkout/timeline.py): one time axis for the lanes and the deadline, to scale
where it can be, long waits cut and marked with their real duration, no dot on another, times to the ms.

The geometry is computed in Python from unsaved attempts and events: no database needed.
"""

import re
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from checkout.models import Saga, SagaEvent
from checkout.timeline import (
    BREAK,
    DOT,
    LEFT,
    MARK_GAP,
    RIGHT,
    TONE_NAMES,
    TONES,
    TRACK,
    attempt_timeline,
    timeline_svg,
    tone,
)

START = datetime(2026, 11, 22, 21, 59, 3, 412_000, tzinfo=UTC)
SERVICE = {"Order": "orders", "Deadl": "orders", "Excha": "exchanges", "Point": "points", "Compe": "checkout"}


def _at(ms: int) -> datetime:
    return START + timedelta(milliseconds=ms)


def _attempt(script: list[tuple[int, str]], *, deadline_ms: int = 10_000, status: str = "APPROVED", now_ms=None):
    """An attempt that started at START with these (offset ms, event type) events."""
    decided = next((ms for ms, kind in script if kind in ("OrderPlaced", "OrderRejected")), None)
    done = next((ms for ms, kind in script if kind == "CompensationCompleted"), None)
    saga = Saga(
        pk=7,
        attempt=1,
        status=status,
        reason="DEADLINE" if status == "REJECTED" else "",
        created_at=START,
        deadline_at=_at(deadline_ms),
        decided_at=None if decided is None else _at(decided),
        compensated_at=None if done is None else _at(done),
    )
    events = [
        SagaEvent(pk=n, event_type=kind, service=SERVICE[kind[:5]], timestamp=_at(ms), payload={})
        for n, (ms, kind) in enumerate(script, start=1)
    ]
    return attempt_timeline(saga, events, now=_at(now_ms if now_ms is not None else 60_000))


APPROVED = [(0, "OrderCreated"), (12, "ExchangeSucceed"), (25, "PointUsed"), (33, "OrderPlaced")]
# Seed 000's quiz: the deadline (3 s) rejects the order, every step is undone, the late exchange step is refused.
QUIZ = [
    (0, "OrderCreated"),
    (3004, "DeadlineReached"),
    (3005, "OrderRejected"),
    (3009, "PointUseCancelled"),
    (3011, "ExchangeCancelled"),
    (3013, "CompensationCompleted"),
    (5012, "ExchangeRefused"),
]


def _xs(timeline) -> list[float]:
    return [e.x for e in timeline.events]


def test_events_and_the_deadline_share_one_axis_in_time_order():
    # when
    timeline = _attempt(QUIZ, deadline_ms=3000, status="REJECTED")
    # then events are numbered and placed in time order, strictly left to right
    assert [e.number for e in timeline.events] == [1, 2, 3, 4, 5, 6, 7]
    xs = _xs(timeline)
    assert all(b > a for a, b in pairwise(xs))
    # and the one deadline sits on the same axis, between the events before it and those after it
    before = [e.x for e in timeline.events if not e.after_deadline]
    after = [e.x for e in timeline.events if e.after_deadline]
    assert max(before) < timeline.deadline_x < min(after)
    assert timeline.before_deadline == 1
    assert min(xs) >= LEFT and max(xs) <= timeline.width


def test_a_long_wait_is_cut_short_and_marked_with_its_real_duration():
    # when 33 ms of steps are followed by nearly 10 s of nothing until the deadline
    timeline = _attempt(APPROVED)
    # then that wait is one break, BREAK wide, saying how long it was
    [cut] = timeline.breaks
    assert cut.ms == 10_000 - 33
    assert cut.text == "⋯ 9.967 s ⋯"
    assert cut.x_end - cut.x_start == pytest.approx(BREAK)
    assert cut.x_start == timeline.events[-1].x and cut.x_end == timeline.deadline_x
    # and the steps before it are drawn to scale, over most of the axis, not in a sliver
    xs = _xs(timeline)
    scale = (xs[-1] - xs[0]) / 33
    for event in timeline.events:
        assert event.x == pytest.approx(xs[0] + event.offset_ms * scale, abs=0.2)
    assert xs[-1] - xs[0] > TRACK / 2
    assert timeline.width <= LEFT + TRACK + RIGHT + 0.1
    svg = str(timeline_svg(timeline))
    assert svg.count('class="saga-break"') == 1 and "⋯ 9.967 s ⋯" in svg


def test_every_long_wait_of_the_quiz_is_cut_and_the_bursts_stay_to_scale():
    timeline = _attempt(QUIZ, deadline_ms=3000, status="REJECTED")
    # the 3 s before the deadline and the 2 s until the late step each become a break
    assert [b.ms for b in timeline.breaks] == [3000, 1999]
    assert [b.text for b in timeline.breaks] == ["⋯ 3.000 s ⋯", "⋯ 1.999 s ⋯"]
    assert timeline.breaks[0].x_end == timeline.deadline_x  # the wait ends at the deadline


def test_an_attempt_with_no_long_wait_is_drawn_to_scale_end_to_end():
    # when events are spread over the attempt
    timeline = _attempt(
        [(0, "OrderCreated"), (1000, "ExchangeSucceed"), (2000, "PointUsed"), (2500, "OrderPlaced")], deadline_ms=3000
    )
    # then nothing is cut and every x is proportional to its time, the deadline's included
    assert timeline.breaks == []
    scale = (timeline.deadline_x - LEFT) / 3000
    assert [e.x for e in timeline.events] == pytest.approx([LEFT + ms * scale for ms in (0, 1000, 2000, 2500)], abs=0.2)
    assert timeline.scale_bar is not None
    width, ms = timeline.scale_bar
    assert width == pytest.approx(ms * scale, abs=0.2)


def test_events_a_few_ms_apart_at_the_deadline_never_overlap():
    # given a burst of events within 3 ms of the deadline, in every lane
    burst = [
        (0, "OrderCreated"),
        (9, "ExchangeSucceed"),
        (10_000, "DeadlineReached"),
        (10_000, "OrderRejected"),
        (10_001, "PointUseCancelled"),
        (10_001, "ExchangeCompensated"),
        (10_002, "CompensationCompleted"),
        (10_003, "ExchangeRefused"),
    ]
    timeline = _attempt(burst, status="REJECTED")
    # then no two dots are closer than a dot's size, in any lane, and none sits on the deadline line
    xs = _xs(timeline)
    assert all(b - a >= DOT for a, b in pairwise(xs))
    for lane in range(4):
        in_lane = [e.x for e in timeline.events if e.lane == lane]
        assert all(b - a >= DOT for a, b in pairwise(in_lane))
    assert all(abs(x - timeline.deadline_x) >= MARK_GAP for x in xs)
    # and each one is a dot of its own on the drawing, with its number and a tooltip
    svg = str(timeline_svg(timeline))
    assert len(re.findall(r'<a class="saga-dot tone-\w+"', svg)) == len(burst)
    assert svg.count("<title>") == len(burst) + len(timeline.breaks)


def test_the_drawing_has_exactly_one_deadline_marker():
    for timeline in (_attempt(APPROVED), _attempt(QUIZ, deadline_ms=3000, status="REJECTED")):
        svg = str(timeline_svg(timeline))
        assert svg.count('class="saga-deadline"') == 1
        assert f'data-deadline-ms="{timeline.deadline_ms}"' in svg


def test_times_are_shown_to_the_millisecond():
    timeline = _attempt([(0, "OrderCreated"), (312, "ExchangeSucceed"), (10_004, "DeadlineReached")], status="REJECTED")
    assert [e.offset_text for e in timeline.events] == ["+0.000 s", "+0.312 s", "+10.004 s"]
    assert [e.clock_text for e in timeline.events] == ["21:59:03.412", "21:59:03.724", "21:59:13.416"]
    assert timeline.deadline_text == "deadline +10.000 s"
    assert timeline.ticks[0].text == "+0.000 s"


def test_a_pending_attempt_shows_now_on_the_same_axis():
    timeline = _attempt([(0, "OrderCreated"), (11, "ExchangeSucceed")], status="PENDING", now_ms=4000)
    assert timeline.events[-1].x < timeline.now_x < timeline.deadline_x
    assert timeline.summary == "in flight: 6.000 s left before its deadline"


@pytest.mark.parametrize(
    ("event_type", "expected"),
    [
        ("OrderCreated", "neutral"),
        ("CheckoutStarted", "neutral"),
        ("ExchangeSucceed", "applied"),
        ("PointUsed", "applied"),
        ("OrderPlaced", "approved"),
        ("OrderRejected", "rejected"),
        ("DeadlineReached", "rejected"),
        ("ExchangeFailed", "rejected"),
        ("PointUseFailed", "rejected"),
        ("ExchangeCompensated", "undone"),
        ("PointUseCompensated", "undone"),
        ("ExchangeCancelled", "undone"),
        ("PointUseCancelled", "undone"),
        ("CompensationCompleted", "undone"),
        ("ExchangeRefused", "refused"),  # a late step turned away by its tombstone: protection working
        ("PointUseRefused", "refused"),
        ("ExchangeExpired", "refused"),
        ("PointUseExpired", "refused"),
        ("CompensationRedriven", "operator"),
        ("CompensationNeedsAttention", "operator"),
        ("CompensationRetried", "operator"),
        ("SomethingNew", "neutral"),
    ],
)
def test_each_event_type_has_the_tone_of_what_it_means(event_type, expected):
    assert tone(event_type) == expected


def test_the_legend_names_every_tone_in_words():
    assert set(TONES.values()) == set(TONE_NAMES)
    assert TONE_NAMES["refused"] == "late work turned away (refused, expired)"
    assert TONE_NAMES["undone"] == "undone (compensation)"
    timeline = _attempt(QUIZ, deadline_ms=3000, status="REJECTED")
    assert [name for name, _ in timeline.tones] == ["neutral", "rejected", "undone", "refused"]
