"""Two workers on every queue (issue 9, `SAGA_WORKERS=2`): every guarantee holds, every saga settles exactly once.

The session's worker and a second `celery worker` process, with a node name of its own,
both consume the four service queues, so the steps of one saga, its deadline and its
compensations may each run in either process, as on two hosts.
"""

import os
from collections import Counter
from collections.abc import Iterator

import pytest

from checkout.audit import audit
from checkout.models import Saga, SagaEvent
from checkout.services import order_place
from config.celery import app
from conftest import _start, _stop, _wait_ready, _worker_args, wait_for, wait_quiet
from exchanges.models import Currency
from exchanges.services import currency_create
from points.models import PointAccount
from points.services import points_deposit

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]

CROWD_ORDERS, CROWD_AFFORDABLE, AMOUNT = 36, 24, 100
SCARCE_ORDERS, SCARCE_STOCK = 6, 3
SLOW_BEFORE_CHECK = 100  # seed 000's currency whose exchange step wakes after the deadline

EVENTS = {
    ("APPROVED", ""): {"OrderCreated": 1, "ExchangeSucceed": 1, "PointUsed": 1, "OrderPlaced": 1},
    ("REJECTED", "POINT_LIMIT"): {
        "OrderCreated": 1,
        "ExchangeSucceed": 1,
        "PointUseFailed": 1,
        "OrderRejected": 1,
        "ExchangeCompensated": 1,
        "CompensationCompleted": 1,
    },
    ("REJECTED", "OUT_OF_STOCK"): {
        "OrderCreated": 1,
        "ExchangeFailed": 1,
        "OrderRejected": 1,
        "CompensationCompleted": 1,
    },
    ("REJECTED", "DEADLINE"): {
        "OrderCreated": 1,
        "DeadlineReached": 1,
        "OrderRejected": 1,
        "PointUseCancelled": 1,
        "ExchangeCancelled": 1,
        "CompensationCompleted": 1,
        "ExchangeExpired": 1,
    },
}


@pytest.fixture
def second_worker(celery_worker) -> Iterator[str]:
    """A second worker process on every service queue, beside the session's, with a node name of its own."""
    name = f"second-{os.getpid()}@localhost"
    worker = _start(_worker_args(name, concurrency=4), "second-worker.log")
    try:
        _wait_ready(worker, name, "second-worker.log")
        yield name
        wait_quiet(name)
    finally:
        _stop(worker)


def tasks_run(worker: str) -> int:
    stats = app.control.inspect(destination=[worker], timeout=2).stats() or {}
    return sum(stats[worker]["total"].values())


def settled(orders) -> bool:
    sagas = Saga.objects.filter(order__in=orders)
    return (
        sagas.filter(status="APPROVED").count() + sagas.filter(status="REJECTED", compensated_at__isnull=False).count()
    ) == len(orders)


def test_two_workers_on_every_queue_settle_every_saga_exactly_once(
    seed_currencies, celery_worker, second_worker, settings
):
    # given two workers consuming every queue, each with a node name of its own
    replies = app.control.ping(destination=[celery_worker, second_worker], timeout=2)
    assert sorted(node for reply in replies for node in reply) == sorted([celery_worker, second_worker])
    tasks_before = {worker: tasks_run(worker) for worker in (celery_worker, second_worker)}
    # and a balance for 24 of 36 orders, a currency with stock for 3 of 6, and enough of everything else
    points_deposit(user_id="crowd", amount=CROWD_AFFORDABLE * AMOUNT)
    points_deposit(user_id="rich", amount=10_000)
    scarce = currency_create(code="SCARCE", rate=1, stock=SCARCE_STOCK)
    usd_stock = Currency.objects.get(pk=1).stock
    # when an order that can only end by its deadline (its exchange step wakes after it) is placed
    settings.SAGA_DEADLINE_SECONDS = 3
    late = order_place(holder_id="rich", lines=[(SLOW_BEFORE_CHECK, 500)])
    # and, with a deadline that is not the subject, the crowd's and the scarce currency's orders, interleaved
    settings.SAGA_DEADLINE_SECONDS = 60
    orders = [late]
    for index in range(CROWD_ORDERS):
        orders.append(order_place(holder_id="crowd", lines=[(1, AMOUNT)]))
        if index < SCARCE_ORDERS:
            orders.append(order_place(holder_id="rich", lines=[(scarce.pk, 1)]))
    wait_for(lambda: settled(orders), timeout=180, what=f"all {len(orders)} sagas to settle")
    wait_for(
        lambda: SagaEvent.objects.filter(order=late, event_type="ExchangeExpired").exists(),
        timeout=60,
        what="the late exchange step to wake up expired",
    )
    for worker in (celery_worker, second_worker):
        wait_quiet(worker)
    # then each saga has the outcome its balance, stock or deadline allows
    sagas = {saga.order_id: saga for saga in Saga.objects.filter(order__in=orders)}
    assert len(sagas) == len(orders)
    assert Counter((saga.status, saga.reason) for saga in sagas.values()) == {
        ("APPROVED", ""): CROWD_AFFORDABLE + SCARCE_STOCK,
        ("REJECTED", "POINT_LIMIT"): CROWD_ORDERS - CROWD_AFFORDABLE,
        ("REJECTED", "OUT_OF_STOCK"): SCARCE_ORDERS - SCARCE_STOCK,
        ("REJECTED", "DEADLINE"): 1,
    }
    assert (sagas[late.pk].status, sagas[late.pk].reason) == ("REJECTED", "DEADLINE")
    # and each one was decided once and each of its compensations ran once
    for order_id, saga in sagas.items():
        events = Counter(SagaEvent.objects.filter(order_id=order_id).values_list("event_type", flat=True))
        assert events == EVENTS[(saga.status, saga.reason)], (order_id, saga.status, saga.reason, events)
    # and every effect is there exactly once
    assert PointAccount.objects.get(pk="crowd").balance == 0
    assert PointAccount.objects.get(pk="rich").balance == 10_000 - SCARCE_STOCK
    assert Currency.objects.get(pk=1).stock == usd_stock - CROWD_AFFORDABLE * AMOUNT
    assert Currency.objects.get(pk=scarce.pk).stock == 0
    assert Currency.objects.get(pk=SLOW_BEFORE_CHECK).stock == 1_000_000
    assert audit() == []
    # and both workers took part (both consume every queue; Redis hands each message to one of them)
    assert all(tasks_run(worker) > tasks_before[worker] for worker in (celery_worker, second_worker)), tasks_before
