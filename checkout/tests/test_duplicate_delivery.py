"""Every task delivered twice (SAGA_FAULT_PROFILE=duplicate) ends in exactly the same state."""

from collections import Counter

import pytest

from checkout.audit import audit
from checkout.models import Saga, SagaEvent
from checkout.services import order_place
from conftest import wait_for
from exchanges.models import Currency
from exchanges.services import currency_create
from points.models import PointAccount, PointEntry
from points.services import points_deposit

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]


def test_every_task_delivered_twice_changes_nothing(usd, duplicating_worker):
    # given one order that will be approved, one short of points, one short of stock
    points_deposit(user_id="rich", amount=1_000)
    points_deposit(user_id="poor", amount=100)
    scarce = currency_create(code="SCARCE", rate=1, stock=3)
    approved = order_place(holder_id="rich", lines=[(1, 500)])
    short_of_points = order_place(holder_id="poor", lines=[(1, 900)])
    short_of_stock = order_place(holder_id="rich", lines=[(scarce.pk, 5)])
    orders = [approved, short_of_points, short_of_stock]
    # when every message of their sagas is delivered twice
    wait_for(
        lambda: (
            Saga.objects.filter(order__in=orders, status="APPROVED").count()
            + Saga.objects.filter(order__in=orders, status="REJECTED", compensated_at__isnull=False).count()
            == 3
        ),
        timeout=60,
        what="the three sagas to settle",
    )
    # then the state is exactly that of single delivery
    outcomes = {o.pk: Saga.objects.get(order=o) for o in orders}
    assert [(s.status, s.reason) for s in outcomes.values()] == [
        ("APPROVED", ""),
        ("REJECTED", "POINT_LIMIT"),
        ("REJECTED", "OUT_OF_STOCK"),
    ]
    assert (PointAccount.objects.get(pk="rich").balance, PointAccount.objects.get(pk="poor").balance) == (500, 100)
    assert Currency.objects.get(pk=1).stock == 1_000_000 - 500
    assert Currency.objects.get(pk=scarce.pk).stock == 3
    assert Counter(PointEntry.objects.values_list("account_id", "kind")) == {
        ("rich", "DEPOSIT"): 1,
        ("rich", "USE"): 1,
        ("poor", "DEPOSIT"): 1,
    }
    for order in orders:
        events = Counter(SagaEvent.objects.filter(order=order).values_list("event_type", flat=True))
        effects = {name: n for name, n in events.items() if name.endswith(("Succeed", "Used", "Placed", "Compensated"))}
        assert all(n == 1 for n in effects.values()), (order.pk, events)
        assert events["OrderPlaced"] + events["OrderRejected"] == 1
    assert audit() == []
