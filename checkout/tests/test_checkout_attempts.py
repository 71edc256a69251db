"""Attempts of one order: at most one pending, paid at most once, items frozen while checked out."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from checkout.models import Saga
from checkout.saga import STEPS, steps_that_may_have_applied
from checkout.services import checkout_start
from config.errors import Conflict, Refused
from orders.models import Order, OrderStatus
from orders.services import order_add_item, order_open

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(usd) -> Order:
    order = order_open(holder_id="jjy")
    order_add_item(order_id=order.pk, currency_id=1, quantity=2)
    return order


def _attempt(order: Order, *, attempt: int, status: str, deadline_in: timedelta = timedelta(minutes=1)) -> Saga:
    reason = "POINT_LIMIT" if status == "REJECTED" else ""
    return Saga.objects.create(
        order=order, attempt=attempt, status=status, reason=reason, deadline_at=timezone.now() + deadline_in
    )


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
