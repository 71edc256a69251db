"""Attempts of one order: at most one pending, paid at most once, items frozen while checked out."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from checkout import notify, outbox
from checkout.models import Saga
from checkout.notify import NotSettled
from checkout.saga import STEPS, steps_that_may_have_applied
from checkout.services import checkout_order, checkout_start, saga_reject
from config.errors import Conflict, Refused
from orders.models import Order, OrderStatus, RejectionReason
from orders.services import order_add_item, order_open, orders_batch_init

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(usd) -> Order:
    order = order_open(holder_id="jjy")
    order_add_item(order_id=order.pk, currency_id=1, quantity=2)
    return order


def _attempt(
    order: Order, *, attempt: int, status: str, deadline_in: timedelta = timedelta(minutes=1), generation: int = 0
) -> Saga:
    reason = "POINT_LIMIT" if status == "REJECTED" else ""
    return Saga.objects.create(
        order=order,
        attempt=attempt,
        status=status,
        reason=reason,
        deadline_at=timezone.now() + deadline_in,
        generation=generation,
    )


def _overwrite(order: Order) -> None:
    """What seed 004's orders/batch_init does to an existing id: a new order under the old id."""
    orders_batch_init(n=1, n_items=1, n_users=1, item_price=3, first_id=order.pk)


def test_an_attempt_takes_a_snapshot_of_the_order(order):
    # when
    saga = checkout_start(order_id=order.pk)
    # then
    assert (saga.attempt, saga.status, saga.lines, saga.cost) == (1, "PENDING", [[1, 2]], 2)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING


def test_a_pending_attempt_is_joined_not_duplicated(order):
    # given
    first = checkout_start(order_id=order.pk)
    # when
    second = checkout_start(order_id=order.pk)
    # then
    assert second.pk == first.pk
    assert Saga.objects.filter(order=order).count() == 1


def test_a_paid_order_starts_nothing(order):
    # given
    paid = _attempt(order, attempt=1, status="APPROVED")
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.APPROVED)
    # when
    answer = checkout_start(order_id=order.pk)
    # then
    assert answer.pk == paid.pk
    assert Saga.objects.filter(order=order).count() == 1


def test_a_rejected_order_gets_a_new_attempt(order):
    # given
    _attempt(order, attempt=1, status="REJECTED")
    # when
    retry = checkout_start(order_id=order.pk)
    # then
    assert (retry.attempt, retry.status) == (2, "PENDING")


def test_the_database_refuses_a_second_pending_or_a_second_approved_attempt(order):
    # given
    _attempt(order, attempt=1, status="PENDING")
    # when / then
    with pytest.raises(IntegrityError), transaction.atomic():
        _attempt(order, attempt=2, status="PENDING")
    Saga.objects.filter(order=order).update(status="APPROVED")
    with pytest.raises(IntegrityError), transaction.atomic():
        _attempt(order, attempt=3, status="APPROVED")
    assert Saga.objects.filter(order=order).count() == 1


def test_the_database_allows_one_paid_attempt_per_generation_of_an_order(order):
    # given
    _attempt(order, attempt=1, status="APPROVED")
    # when: the same id, overwritten by a batch_init, is paid again
    _attempt(order, attempt=2, status="APPROVED", generation=1)
    # then
    with pytest.raises(IntegrityError), transaction.atomic():
        _attempt(order, attempt=3, status="APPROVED", generation=1)
    assert Saga.objects.filter(order=order, status="APPROVED").count() == 2


def test_an_order_paid_then_overwritten_by_batch_init_is_checked_out_afresh(order):
    # given
    paid = _attempt(order, attempt=1, status="APPROVED")
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.APPROVED)
    _overwrite(order)
    # when
    saga = checkout_start(order_id=order.pk)
    # then: a new attempt of the new order's lines, not the old answer
    assert saga.pk != paid.pk
    assert (saga.attempt, saga.generation, saga.status, saga.lines, saga.cost) == (2, 1, "PENDING", [[0, 1], [0, 1]], 6)
    assert Order.objects.values_list("status", "generation").get(pk=order.pk) == (OrderStatus.PENDING, 1)


def test_an_attempt_of_an_overwritten_order_decided_late_leaves_the_new_order_alone(order):
    # given: an attempt in flight when batch_init overwrites its order, and the new order's own attempt
    old = checkout_start(order_id=order.pk)
    _overwrite(order)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.OPEN
    new = checkout_start(order_id=order.pk)
    # when
    outcome = saga_reject(saga_id=old.pk, reason=RejectionReason.POINT_LIMIT)
    # then: the old attempt is rejected (and compensated); the order mirrors its new attempt
    assert outcome == "REJECTED"
    assert (new.attempt, new.generation) == (2, 1)
    assert Saga.objects.get(pk=old.pk).status == "REJECTED"
    assert Order.objects.values_list("status", "rejection_reason").get(pk=order.pk) == (OrderStatus.PENDING, "")


def test_items_cannot_be_added_while_checked_out_or_once_paid(order):
    # given
    checkout_start(order_id=order.pk)
    # when / then
    with pytest.raises(Conflict):
        order_add_item(order_id=order.pk, currency_id=1, quantity=1)
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.APPROVED)
    with pytest.raises(Refused) as refused:
        order_add_item(order_id=order.pk, currency_id=1, quantity=1)
    assert refused.value.code == "ORDER_PAID"
    assert Order.objects.get(pk=order.pk).total_cost == 2


def test_a_step_failure_compensates_only_the_steps_before_it():
    exchanges, points = STEPS
    assert steps_that_may_have_applied("exchanges") == ()
    assert steps_that_may_have_applied("points") == (exchanges,)
    assert steps_that_may_have_applied(None) == (exchanges, points)


def test_a_checkout_that_outlives_its_deadline_and_grace_answers_503(client, order, settings):
    # given an attempt that nothing will ever settle (no worker runs in this test)
    settings.SAGA_WAIT_GRACE_SECONDS = 0
    _attempt(order, attempt=1, status="PENDING", deadline_in=timedelta(seconds=-1))
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.PENDING)
    # when
    response = client.post(f"/wdm/orders/checkout/{order.pk}")
    # then
    assert response.status_code == 503
    assert response.json()["error"] == "NOT_SETTLED"
    assert Saga.objects.filter(order=order).count() == 1


@pytest.mark.django_db(transaction=True)  # the attempt is sent when its transaction really commits
def test_a_checkout_listens_for_the_attempt_it_starts_before_sending_it(order, settings, monkeypatch):
    # given: no worker, so the attempt never settles; what the listener holds when the attempt is sent
    settings.SAGA_DEADLINE_SECONDS, settings.SAGA_WAIT_GRACE_SECONDS = 1, 0
    listening_when_sent = []
    monkeypatch.setattr(
        outbox,
        "publish_after_commit",
        lambda message: listening_when_sent.append(message.saga_id in notify._listener._waiters),
    )
    # when
    with pytest.raises(NotSettled):
        checkout_order(order_id=order.pk)
    # then: it was listened for before it was sent, and is no longer once the wait ended
    assert listening_when_sent == [True]
    assert Saga.objects.get(order=order).pk not in notify._listener._waiters
