"""Admission control (ADR 0010): past capacity, refuse at once with 503 and Retry-After; create nothing.

The budget lives in the test Redis; conftest empties it before every test. Measurements are
fed into Redis directly where a test is about how the limit is computed, around Redis' own
clock (the one the scripts use), over more seconds than the window so that a second ticking
over between the feed and the read changes nothing.
"""

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from checkout import admission
from checkout.admission import (
    KEYS,
    Overloaded,
    Ticket,
    admission_acquire,
    admission_bind,
    admission_release,
    admission_state,
)
from checkout.locks import redis_client

TICKETS, ADMITTED, SETTLED, LATENCY, SAMPLED = KEYS[:5]


@pytest.fixture
def budget(settings):
    """Room for two attempts in flight, whatever is measured; the test deadline (3 s) makes the target 0.75 s."""
    settings.SAGA_ADMISSION_MIN_INFLIGHT = 2
    settings.SAGA_ADMISSION_MAX_INFLIGHT = 2


def fill(n: int) -> list[Ticket]:
    return [admission_acquire() for _ in range(n)]


def feed(*, settled_per_second: int, latency_seconds: float) -> None:
    """As if `settled_per_second` attempts had settled in every second around now, each `latency_seconds` after
    its admission."""
    client = redis_client()
    now = int(client.time()[0])
    seconds = range(now - 10, now + 3)
    client.hset(SETTLED, mapping={second: settled_per_second for second in seconds})
    client.hset(SAMPLED, mapping={second: settled_per_second for second in seconds})
    client.hset(LATENCY, mapping={second: settled_per_second * latency_seconds for second in seconds})


def total(key: str) -> float:
    return sum(float(value) for value in redis_client().hvals(key))


def members() -> list[str]:
    return sorted(member.decode() for member in redis_client().zrange(TICKETS, 0, -1))


# --- The budget ------------------------------------------------------------------------------


def test_admission_admits_up_to_the_limit_then_refuses(budget):
    # given
    first, second = fill(2)
    # when
    with pytest.raises(Overloaded) as refused:
        admission_acquire()
    # then
    assert (refused.value.retry_after, refused.value.detail) == (
        1,
        "At capacity: 2 of 2 attempts in flight. Retry after 1 s.",
    )
    assert members() == sorted([first.member, second.member])
    state = admission_state()
    assert (state.limit, state.in_flight, state.refused_last_minute, state.refused_last_hour, state.shedding) == (
        2,
        2,
        1,
        1,
        True,
    )


def test_retry_after_is_the_measured_drain_time(settings):
    # given 4 attempts settle a second, and 20 are in flight
    settings.SAGA_ADMISSION_MIN_INFLIGHT = settings.SAGA_ADMISSION_MAX_INFLIGHT = 20
    feed(settled_per_second=4, latency_seconds=0.5)
    fill(20)
    # when
    with pytest.raises(Overloaded) as refused:
        admission_acquire()
    # then they drain in 20 / 4 = 5 s
    assert refused.value.retry_after == 5


@pytest.mark.parametrize(
    "settled_per_second, latency_seconds, limit",
    [
        (0, 0.0, 10),  # nothing measured: the minimum
        (40, 0.5, 40),  # latency under the target: throughput x target (Little's law)
        (40, 2.0, 20),  # twice the target: half of it
        (40, 8.0, 10),  # far over the target: never below the minimum
        (4000, 0.5, 1000),  # never above the maximum
    ],
)
def test_the_limit_grows_with_throughput_and_shrinks_when_latency_exceeds_the_target(
    settings, settled_per_second, latency_seconds, limit
):
    # given a target of 1 s
    settings.SAGA_ADMISSION_TARGET_SECONDS = 1.0
    settings.SAGA_ADMISSION_MIN_INFLIGHT, settings.SAGA_ADMISSION_MAX_INFLIGHT = 10, 1000
    if settled_per_second:
        feed(settled_per_second=settled_per_second, latency_seconds=latency_seconds)
    # when
    state = admission_state()
    # then
    assert (state.limit, state.throughput, state.latency_seconds) == (
        limit,
        settled_per_second,
        latency_seconds if settled_per_second else None,
    )


def test_expired_tickets_are_pruned_and_leave_nothing_behind(budget):
    # given two tickets whose attempts never settled, expired a second ago
    client = redis_client()
    expired = float(client.time()[0]) - 1
    client.zadd(TICKETS, {"s:1": expired, "s:2": expired})
    client.hset(ADMITTED, mapping={"s:1": expired - 40, "s:2": expired - 40})
    # when
    tickets = fill(2)
    # then they took no place, and nothing of them is left
    assert members() == sorted(ticket.member for ticket in tickets)
    assert sorted(client.hkeys(ADMITTED)) == sorted(ticket.member.encode() for ticket in tickets)


def test_concurrent_admissions_never_exceed_the_limit(settings):
    # given a limit of 20 and 64 requests arriving at once
    settings.SAGA_ADMISSION_MIN_INFLIGHT = settings.SAGA_ADMISSION_MAX_INFLIGHT = 20
    barrier = threading.Barrier(64)

    def arrive(_: int) -> str:
        barrier.wait()
        try:
            admission_acquire()
        except Overloaded:
            return "refused"
        return "admitted"

    # when
    with ThreadPoolExecutor(64) as pool:
        outcomes = Counter(pool.map(arrive, range(64)))
    # then
    assert outcomes == {"admitted": 20, "refused": 44}
    assert (admission_state().in_flight, admission_state().refused_last_minute) == (20, 44)


def test_a_settled_attempt_frees_its_place_and_is_measured(budget):
    # given a ticket bound to attempt 7
    ticket = admission_acquire()
    admission_bind(ticket, saga_id=7)
    assert members() == ["s:7"]
    # when it settles
    released = admission_release(7)
    # then its place is free, and one settled attempt and one latency sample are counted
    assert released is True
    assert (members(), redis_client().hlen(ADMITTED)) == ([], 0)
    assert (total(SETTLED), total(SAMPLED)) == (1, 1)
    assert 0 <= total(LATENCY) < 5
    # and a second release (a replayed settle) finds nothing to free
    assert admission_release(7) is False


def test_turned_off_admission_admits_everything_and_takes_no_ticket(budget, settings):
    # given a full budget, then admission turned off
    fill(2)
    settings.SAGA_ADMISSION = False
    # when
    ticket = admission_acquire()
    # then
    assert ticket.member is None
    state = admission_state()
    assert (state.enabled, state.in_flight, state.shedding) == (False, 2, False)


def test_without_redis_admission_admits_without_a_ticket(budget, monkeypatch):
    # given a Redis that refuses connections
    def refuse(*args, **kwargs):
        raise RedisConnectionError("Connection refused")

    monkeypatch.setattr(admission._scripts(), "acquire", refuse)
    # when
    ticket = admission_acquire()
    # then
    assert ticket.member is None
