"""One terminal transition, whatever races: approve and reject fired together from many threads.

Runs on PostgreSQL with real threads; the compensations that a rejection sends run on the
real worker, so "one set of effects" is checked on balances, stock and the event log.
"""

import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from checkout import faults
from checkout.models import Saga, SagaEvent, SagaStatus
from checkout.services import saga_approve, saga_reject
from conftest import wait_for
from exchanges.models import Currency
from exchanges.services import exchange_apply
from orders.models import Order, OrderStatus
from orders.services import order_create
from points.models import PointAccount
from points.services import points_deposit, points_use

THREADS = 12
ROUNDS = 8
BALANCE = 10_000
STOCK = 1_000_000
AMOUNT = 500

pytestmark = pytest.mark.django_db(transaction=True)


def _attempt_with_both_steps_applied() -> Saga:
    """A PENDING attempt whose exchange and points steps have applied; only the decision is left."""
    order = order_create(holder_id="racer", lines=[(1, AMOUNT)])
    saga = Saga.objects.create(order=order, deadline_at=timezone.now() + timedelta(minutes=5))
    exchange_apply(saga_id=saga.pk, order_id=order.pk, holder_id="racer", lines=[(1, AMOUNT)], cost=AMOUNT)
    points_use(saga_id=saga.pk, order_id=order.pk, user_id="racer", amount=AMOUNT)
    return saga


def _fire_together(saga_id: int) -> list[str]:
    barrier = threading.Barrier(THREADS)
    results: list[str] = []

    def transition(index: int) -> None:
        try:
            barrier.wait()
            if index % 2:
                results.append(saga_approve(saga_id=saga_id))
            else:
                results.append(saga_reject(saga_id=saga_id, reason="POINT_LIMIT"))
        finally:
            connection.close()

    threads = [threading.Thread(target=transition, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _assert_exactly_one_outcome(saga: Saga, results: list[str], balance_before: int, stock_before: int) -> str:
    saga.refresh_from_db()
    decided = Counter(results)
    events = Counter(SagaEvent.objects.filter(saga=saga).values_list("event_type", flat=True))
    assert decided["APPROVED"] + decided["REJECTED"] == 1, results
    assert events["OrderPlaced"] + events["OrderRejected"] == 1, events
    assert saga.version == 1
    if saga.status == SagaStatus.APPROVED:
        assert Order.objects.get(pk=saga.order_id).status == OrderStatus.APPROVED
        assert PointAccount.objects.get(pk="racer").balance == balance_before - AMOUNT
        assert Currency.objects.get(pk=1).stock == stock_before - AMOUNT
        assert not (events["PointUseCompensated"] or events["ExchangeCompensated"])
    else:
        wait_for(lambda: Saga.objects.get(pk=saga.pk).compensated_at, timeout=60, what=f"saga {saga.pk} compensated")
        events = Counter(SagaEvent.objects.filter(saga=saga).values_list("event_type", flat=True))
        assert Order.objects.get(pk=saga.order_id).status == OrderStatus.REJECTED
        assert PointAccount.objects.get(pk="racer").balance == balance_before
        assert Currency.objects.get(pk=1).stock == stock_before
        assert (events["PointUseCompensated"], events["ExchangeCompensated"]) == (1, 1), events
    return saga.status


def _run_rounds() -> Counter:
    outcomes = Counter()
    for _ in range(ROUNDS):
        balance_before = PointAccount.objects.get(pk="racer").balance
        stock_before = Currency.objects.get(pk=1).stock
        saga = _attempt_with_both_steps_applied()
        results = _fire_together(saga.pk)
        outcomes[_assert_exactly_one_outcome(saga, results, balance_before, stock_before)] += 1
    return outcomes


@pytest.fixture
def racer(usd):
    return points_deposit(user_id="racer", amount=BALANCE)


def test_approve_and_reject_from_many_threads_decide_once(celery_worker, racer):
    # given/when/then, round after round
    outcomes = _run_rounds()
    print(f"\napprove vs reject, {THREADS} threads x {ROUNDS} rounds: {dict(outcomes)}")
    assert sum(outcomes.values()) == ROUNDS


def test_a_lock_that_expires_mid_transition_still_allows_one_outcome(celery_worker, racer, settings, monkeypatch):
    # given a lock TTL far shorter than the transition takes
    settings.SAGA_LOCK_TTL_SECONDS = 0.1
    inside = {"now": 0, "most": 0}
    guard = threading.Lock()

    def slow_transition(saga: Saga) -> None:
        with guard:
            inside["now"] += 1
            inside["most"] = max(inside["most"], inside["now"])
        time.sleep(0.35)
        with guard:
            inside["now"] -= 1

    monkeypatch.setattr(faults, "inside_transition", slow_transition)
    # when
    outcomes = _run_rounds()
    # then several threads really were inside the "locked" section at once, and still one outcome won
    print(f"\nexpired-lock race: {dict(outcomes)}, up to {inside['most']} transitions inside the lock at once")
    assert inside["most"] >= 2
    assert sum(outcomes.values()) == ROUNDS
