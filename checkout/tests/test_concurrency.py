"""Many orders at once against one balance: the conditional debit lets exactly the affordable ones through."""

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from checkout.models import Saga
from conftest import wait_for
from exchanges.models import Currency
from orders.models import Order
from points.models import PointAccount, PointEntry
from points.services import points_deposit

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]

ORDERS = 50
AFFORDABLE = 25
AMOUNT = 100


def test_fifty_orders_at_once_against_a_balance_for_twenty_five(live_server, usd, celery_worker, settings):
    # given a balance that covers 25 of the 50 orders, and a deadline that is not the subject here
    settings.SAGA_DEADLINE_SECONDS = 120
    points_deposit(user_id="crowd", amount=AFFORDABLE * AMOUNT)
    stock_before = Currency.objects.get(pk=1).stock
    barrier = threading.Barrier(ORDERS)

    def place(_: int) -> requests.Response:
        barrier.wait()
        body = {"holderId": "crowd", "currencyId": 1, "amount": AMOUNT}
        return requests.post(f"{live_server.url}/orders", json=body, timeout=60)

    # when all 50 are placed at the same moment
    with ThreadPoolExecutor(ORDERS) as pool:
        responses = list(pool.map(place, range(ORDERS)))
    # then
    assert [r.status_code for r in responses] == [201] * ORDERS
    wait_for(
        lambda: (
            Saga.objects.filter(status="APPROVED").count()
            + Saga.objects.filter(status="REJECTED", compensated_at__isnull=False).count()
            == ORDERS
        ),
        timeout=120,
        what="all 50 sagas to settle",
    )
    outcomes = Counter(Order.objects.values_list("status", "rejection_reason"))
    assert outcomes == {("APPROVED", ""): AFFORDABLE, ("REJECTED", "POINT_LIMIT"): ORDERS - AFFORDABLE}
    assert PointAccount.objects.get(pk="crowd").balance == 0
    assert sum(PointEntry.objects.filter(account_id="crowd").values_list("amount", flat=True)) == 0
    assert Currency.objects.get(pk=1).stock == stock_before - AFFORDABLE * AMOUNT
