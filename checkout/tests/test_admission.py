"""Admission control (ADR 0010): past capacity, refuse at once with 503 and Retry-After; create nothing.

The budget lives in the test Redis; conftest empties it before every test. Measurements are
fed into Redis directly where a test is about how the limit is computed, around Redis' own
clock (the one the scripts use), over more seconds than the window so that a second ticking
over between the feed and the read changes nothing.
"""

import json
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.core.exceptions import ValidationError
from redis.exceptions import ConnectionError as RedisConnectionError

from checkout import admission
from checkout.admission import (
    KEYS,
    Overloaded,
    Ticket,
    admission_acquire,
    admission_bind,
    admission_release,
    admission_reset,
    admission_state,
)
from checkout.locks import redis_client
from checkout.models import IdempotentRequest, OutboxMessage, Saga, SagaEvent
from checkout.services import checkout_start, order_place, saga_approve, saga_step_apply
from config.celery import app
from conftest import wait_for
from exchanges.models import Currency
from exchanges.services import item_create, stock_add
from orders.models import Order
from orders.services import order_add_item, order_open
from points.models import PointAccount
from points.services import points_deposit

TICKETS, ADMITTED, SETTLED, LATENCY, SAMPLED = KEYS[:5]
JSON = "application/json"


@pytest.fixture
def budget(settings):
    """Room for two attempts in flight, whatever is measured; a 3 s deadline makes the target 0.3 s."""
    settings.SAGA_DEADLINE_SECONDS = 3
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


# --- The services ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_order_takes_a_ticket_named_after_its_attempt(usd, budget):
    # when
    order = order_place(holder_id="jjy", lines=[(1, 5)])
    # then
    assert members() == [f"s:{order.sagas.get().pk}"]


@pytest.mark.django_db
def test_an_order_refused_by_validation_frees_its_ticket_at_once(usd, budget):
    # when
    with pytest.raises(ValidationError):
        order_place(holder_id="jjy", lines=[(999, 5)])
    # then
    assert members() == []
    assert redis_client().hlen(ADMITTED) == 0
    assert total(SETTLED) == 0


# --- Refused over HTTP, both dialects ---------------------------------------------------------


def _counts() -> dict:
    return {
        model.__name__: model.objects.count() for model in (Order, Saga, SagaEvent, OutboxMessage, IdempotentRequest)
    }


@pytest.mark.django_db
def test_past_capacity_an_order_is_refused_with_503_and_nothing_is_created(client, usd, budget):
    # given a full budget
    points_deposit(user_id="jjy", amount=10_000)
    fill(2)
    before, stock = _counts(), Currency.objects.get(pk=1).stock
    body = json.dumps({"holderId": "jjy", "currencyId": 1, "amount": 500})
    # when
    response = client.post("/orders", body, content_type=JSON, headers={"Idempotency-Key": "full-1"})
    # then
    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    assert response.json() == {
        "error": "OVERLOADED",
        "detail": "At capacity: 2 of 2 attempts in flight. Retry after 1 s.",
    }
    assert _counts() == before
    assert (PointAccount.objects.get(pk="jjy").balance, Currency.objects.get(pk=1).stock) == (10_000, stock)


@pytest.mark.django_db
def test_a_refused_order_is_placed_when_retried_with_its_key_once_there_is_room(client, usd, budget):
    # given an order refused at capacity
    tickets = fill(2)
    body = json.dumps({"holderId": "jjy", "currencyId": 1, "amount": 500})
    assert client.post("/orders", body, content_type=JSON, headers={"Idempotency-Key": "k"}).status_code == 503
    # when an attempt settles and the client retries with the same key
    admission_bind(tickets[0], saga_id=10**9)
    admission_release(10**9)
    retried = client.post("/orders", body, content_type=JSON, headers={"Idempotency-Key": "k"})
    # then
    assert retried.status_code == 201
    assert Order.objects.count() == 1


@pytest.fixture
def wdm_order(db) -> Order:
    """A /wdm order of one item (price 10, stock 5) for a user with 100 credit."""
    item = item_create(price=10)
    stock_add(currency_id=item.pk, amount=5)
    points_deposit(user_id="u1", amount=100)
    order = order_open(holder_id="u1")
    order_add_item(order_id=order.pk, currency_id=item.pk, quantity=1)
    return order


@pytest.mark.django_db
def test_past_capacity_a_checkout_that_would_start_an_attempt_is_refused(client, wdm_order, budget):
    # given a full budget
    fill(2)
    before = _counts()
    item = wdm_order.lines.get().currency_id
    # when
    response = client.post(f"/wdm/orders/checkout/{wdm_order.pk}")
    # then
    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    assert response.json() == {
        "order_id": str(wdm_order.pk),
        "error": "OVERLOADED",
        "detail": "At capacity: 2 of 2 attempts in flight. Retry after 1 s.",
    }
    assert _counts() == before
    assert Order.objects.get(pk=wdm_order.pk).status == "OPEN"
    assert (PointAccount.objects.get(pk="u1").balance, Currency.objects.get(pk=item).stock) == (100, 5)


def pay(order: Order) -> None:
    """Check the order out and drive its attempt to APPROVED here, as the tasks would."""
    saga = checkout_start(order_id=order.pk)
    for service in ("exchanges", "points"):
        saga_step_apply(saga_id=saga.pk, service=service)
    assert saga_approve(saga_id=saga.pk) == "APPROVED"
    admission_reset()  # these tests never commit: the approval's release never runs


@pytest.mark.django_db
def test_a_paid_order_is_answered_at_capacity_it_starts_nothing(client, wdm_order, budget):
    # given a paid order, then a full budget
    pay(wdm_order)
    fill(2)
    # when
    response = client.post(f"/wdm/orders/checkout/{wdm_order.pk}")
    # then
    assert response.status_code == 200
    assert response.json() == {"order_id": str(wdm_order.pk), "paid": True, "attempt": 1}
    assert Saga.objects.filter(order=wdm_order).count() == 1


@pytest.mark.django_db
def test_with_room_a_paid_order_gives_back_the_place_it_was_lent(client, wdm_order, budget):
    # given a paid order and room in the budget (a checkout asks admission before it reads the order)
    pay(wdm_order)
    # when
    response = client.post(f"/wdm/orders/checkout/{wdm_order.pk}")
    # then it is answered, and holds no place
    assert response.json() == {"order_id": str(wdm_order.pk), "paid": True, "attempt": 1}
    assert members() == []


@pytest.mark.django_db
def test_an_unknown_order_holds_no_place_with_room_or_without(client, budget):
    # with room: its place is given back when the order is not found
    assert client.post("/wdm/orders/checkout/999999").status_code == 404
    assert members() == []
    # at capacity: refused only once it is known to exist
    fill(2)
    assert client.post("/wdm/orders/checkout/999999").status_code == 404
    assert len(members()) == 2


# --- Released when the attempt settles, with the real worker --------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.e2e
def test_an_approved_attempt_releases_its_ticket(api, usd, celery_worker):
    # given
    points_deposit(user_id="jjy", amount=10_000)
    # when
    order_id = api.post("/orders", {"holderId": "jjy", "amount": 500}).json()["id"]
    # then
    wait_for(lambda: not members(), timeout=30, what="the approval to release its ticket")
    assert Saga.objects.get(order_id=order_id).status == "APPROVED"
    assert (total(SETTLED), total(SAMPLED)) == (1, 1)


@pytest.mark.django_db(transaction=True)
@pytest.mark.e2e
def test_a_rejected_attempt_holds_its_ticket_until_its_compensation_finished(api, usd, celery_worker, settings):
    # given the exchange service is down, and a deadline that will reject the order
    settings.SAGA_DEADLINE_SECONDS = 3
    points_deposit(user_id="jjy", amount=10_000)
    app.control.cancel_consumer("exchanges", destination=[celery_worker], reply=True)
    try:
        # when an order is placed, and its deadline rejects it
        order_id = api.post("/orders", {"holderId": "jjy", "amount": 500}).json()["id"]
        saga = wait_for(
            lambda: Saga.objects.filter(order_id=order_id, status="REJECTED").first(),
            timeout=60,
            what="the deadline to reject",
        )
        # then its exchange compensation waits on the exchanges queue, and the ticket stays
        assert saga.compensated_at is None
        assert members() == [f"s:{saga.pk}"]
    finally:
        app.control.add_consumer("exchanges", destination=[celery_worker], reply=True)
    # when the exchange service is back, the compensation finishes, and only then the place is free
    wait_for(lambda: not members(), timeout=30, what="the end of the compensation to release the ticket")
    saga.refresh_from_db()
    assert (saga.status, saga.reason, saga.compensated_at is not None) == ("REJECTED", "DEADLINE", True)


@pytest.mark.django_db(transaction=True)
@pytest.mark.e2e
def test_orders_placed_at_once_over_http_never_exceed_the_limit(live_server, usd, celery_worker, settings):
    # given room for 10, the exchange service down (nothing settles meanwhile), and 30 clients at once
    settings.SAGA_DEADLINE_SECONDS = (
        3  # its target, 0.3 s (rounded up to 1), is the Retry-After when nothing was measured
    )
    settings.SAGA_ADMISSION_MIN_INFLIGHT = settings.SAGA_ADMISSION_MAX_INFLIGHT = 10
    points_deposit(user_id="crowd", amount=10_000)
    barrier = threading.Barrier(30)

    def place(_: int) -> requests.Response:
        barrier.wait()
        body = {"holderId": "crowd", "currencyId": 1, "amount": 1}
        return requests.post(f"{live_server.url}/orders", json=body, timeout=60)

    app.control.cancel_consumer("exchanges", destination=[celery_worker], reply=True)
    try:
        # when
        with ThreadPoolExecutor(30) as pool:
            responses = list(pool.map(place, range(30)))
        # then
        assert Counter(r.status_code for r in responses) == {201: 10, 503: 20}
        assert {r.headers["Retry-After"] for r in responses if r.status_code == 503} == {"1"}
        assert (Order.objects.count(), Saga.objects.count(), members()) == (
            10,
            10,
            sorted(f"s:{pk}" for pk in Saga.objects.values_list("pk", flat=True)),
        )
    finally:
        app.control.add_consumer("exchanges", destination=[celery_worker], reply=True)
    wait_for(lambda: not members(), timeout=60, what="the ten attempts to settle")
