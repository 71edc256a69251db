"""Seed 000, scenario by scenario, end to end: HTTP in, real worker, real Redis and PostgreSQL.

Numbers follow the seed's README: jjy starts with 10000 points, the happy path leaves
9500, and every later scenario must leave exactly 9500 and the exchange's stock as it was.
The happy paths run with the tests' long deadline (a busy machine cannot hit it); the
scenarios about the deadline set a short one, SHORT_DEADLINE, and the slow currencies sleep
that deadline + 5 s.
"""

import pytest
from playwright.sync_api import expect

from checkout.models import SagaEvent
from config.celery import app
from config.tests.browser import operator_login, screenshot
from conftest import order_settled as settled
from conftest import wait_for, wait_quiet
from exchanges.models import Currency, Exchange
from points.models import PointUse

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]

STOCK = 1_000_000
SHORT_DEADLINE = 3  # seconds, for the scenarios whose subject is the deadline


def event_types(api, order_id: int) -> list[str]:
    return [event["eventType"] for event in api.get(f"/orders/{order_id}/events").json()]


def has_event(order_id: int, event_type: str) -> bool:
    return SagaEvent.objects.filter(order_id=order_id, event_type=event_type).exists()


def stock(currency_id: int) -> int:
    return Currency.objects.get(pk=currency_id).stock


def order_page(page, live_server, api, order_id: int, name: str) -> None:
    """The scenario's order as an operator sees it in the control room: its status, every event on the timeline.

    Leaves a full-page screenshot, test-artifacts/screenshots/seed-000-NAME.png.
    """
    order = api.get(f"/orders/{order_id}").json()
    events = event_types(api, order_id)
    operator_login(page, live_server)
    page.goto(f"{live_server.url}/admin/orders/order/{order_id}/change/")
    expect(page.locator("#content")).to_contain_text(order["statusText"])
    for event_type in set(events):
        expect(page.locator(f".saga-event[data-event-type='{event_type}']")).to_have_count(events.count(event_type))
    screenshot(page, f"seed-000-{name}")


@pytest.fixture
def jjy(api, seed_currencies):
    """## init: `http :8088/points userId="jjy" point=10000`."""
    response = api.post("/points", {"userId": "jjy", "point": "10000"})
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def after_happy_path(api, jjy, celery_worker):
    """## happy path: one order of 500, approved; jjy has 9500 left."""
    order = api.post("/orders", {"holderId": "jjy", "currencyId": "1", "amount": "500"}).json()
    assert settled(order["id"]).status == "APPROVED"
    assert api.get("/points/jjy").json()["point"] == 9500
    return order


def test_init(api, jjy):
    assert jjy == {"userId": "jjy", "point": 10000}
    assert api.get("/points/jjy").json() == {"userId": "jjy", "point": 10000}


def test_happy_path(api, jjy, celery_worker, page, live_server):
    # when
    response = api.post("/orders", {"holderId": "jjy", "currencyId": "1", "amount": "500"})
    # then
    assert response.status_code == 201, response.text
    order_id = response.json()["id"]
    assert [d["orderId"] for d in api.get("/deadlines").json()["results"]] == [order_id]  # a deadline was created
    settled(order_id)
    order = api.get(f"/orders/{order_id}").json()
    assert (order["status"], order["statusText"], order["rejectionReason"]) == ("APPROVED", "APPROVED", None)
    assert api.get("/points/jjy").json() == {"userId": "jjy", "point": 9500}
    transactions = api.get("/transactions").json()["results"]
    assert [(t["orderId"], t["point"], t["balanceAfter"], t["status"]) for t in transactions] == [
        (order_id, 500, 9500, "APPLIED")
    ]
    exchanges = api.get("/exchanges").json()["results"]
    assert [(e["orderId"], e["point"], e["lines"], e["status"]) for e in exchanges] == [
        (order_id, 500, [{"currencyId": 1, "amount": 500}], "APPLIED")
    ]
    assert stock(1) == STOCK - 500
    assert event_types(api, order_id) == ["OrderCreated", "ExchangeSucceed", "PointUsed", "OrderPlaced"]
    used = api.get(f"/orders/{order_id}/events").json()[2]
    assert (used["eventType"], used["orderId"], used["point"]) == ("PointUsed", order_id, 9500)
    order_page(page, live_server, api, order_id, "happy-path")


def test_compensation_with_point_limit(api, after_happy_path, page, live_server):
    # when more is ordered than jjy has points for
    order_id = api.post("/orders", {"holderId": "jjy", "currencyId": "1", "amount": "50000"}).json()["id"]
    # then
    settled(order_id)
    order = api.get(f"/orders/{order_id}").json()
    assert (order["status"], order["rejectionReason"], order["statusText"]) == (
        "REJECTED",
        "POINT_LIMIT",
        "REJECTED DUE TO POINT LIMIT",
    )
    assert api.get("/points/jjy").json()["point"] == 9500
    assert Exchange.objects.get(order_id=order_id).status == "COMPENSATED"
    assert stock(1) == STOCK - 500
    assert event_types(api, order_id) == [
        "OrderCreated",
        "ExchangeSucceed",
        "PointUseFailed",
        "OrderRejected",
        "ExchangeCompensated",
        "CompensationCompleted",
    ]
    order_page(page, live_server, api, order_id, "point-limit")


def test_compensation_with_downtime(api, after_happy_path, celery_worker, settings, page, live_server):
    # given nobody consumes the exchanges queue (the exchange service is down)
    settings.SAGA_DEADLINE_SECONDS = SHORT_DEADLINE
    replies = app.control.cancel_consumer("exchanges", destination=[celery_worker], reply=True)
    assert replies, "the worker did not confirm it stopped consuming exchanges"
    try:
        # when an order is placed (currencyId defaults to 1)
        order_id = api.post("/orders", {"holderId": "jjy", "amount": "500"}).json()["id"]
        # then the deadline rejects it while the exchange service is still down
        wait_for(lambda: has_event(order_id, "OrderRejected"), timeout=60, what="the deadline to reject")
        order = api.get(f"/orders/{order_id}").json()
        assert order["statusText"] == "REJECTED DUE TO DEADLINE"
        assert api.get("/points/jjy").json()["point"] == 9500
        assert not Exchange.objects.filter(order_id=order_id).exists()
        reached = next(e for e in api.get(f"/orders/{order_id}/events").json() if e["eventType"] == "DeadlineReached")
        print(f"\ndowntime: deadline fired {reached['latenessMs']} ms after deadline_at (by {reached['firedBy']})")
    finally:
        # when the exchange service comes back
        app.control.add_consumer("exchanges", destination=[celery_worker], reply=True)
    settled(order_id)
    wait_for(lambda: has_event(order_id, "ExchangeExpired"), timeout=60, what="the late exchange step to run")
    wait_quiet(celery_worker)
    # then the late step did nothing: expired, and its compensation left a tombstone
    assert Exchange.objects.get(order_id=order_id).status == "CANCELLED"
    assert stock(1) == STOCK - 500
    assert api.get("/points/jjy").json()["point"] == 9500
    assert api.get(f"/orders/{order_id}").json()["statusText"] == "REJECTED DUE TO DEADLINE"
    events = event_types(api, order_id)
    # (the expired step and the compensation were both waiting on the exchanges queue; either may run first)
    assert events[:4] == ["OrderCreated", "DeadlineReached", "OrderRejected", "PointUseCancelled"]
    assert sorted(events[4:]) == sorted(["ExchangeExpired", "ExchangeCancelled", "CompensationCompleted"])
    order_page(page, live_server, api, order_id, "downtime")


def test_expired_events_are_ignored(api, after_happy_path, celery_worker, settings, page, live_server):
    # when the exchange step of currency 100 starts only after the deadline
    settings.SAGA_DEADLINE_SECONDS = SHORT_DEADLINE
    order_id = api.post("/orders", {"holderId": "jjy", "currencyId": "100", "amount": "500"}).json()["id"]
    # then
    settled(order_id)
    assert api.get(f"/orders/{order_id}").json()["statusText"] == "REJECTED DUE TO DEADLINE"
    assert api.get("/points/jjy").json()["point"] == 9500
    wait_for(lambda: has_event(order_id, "ExchangeExpired"), timeout=60, what="the slow exchange step to wake up")
    wait_quiet(celery_worker)
    assert api.get("/points/jjy").json()["point"] == 9500
    assert stock(100) == STOCK
    assert Exchange.objects.get(order_id=order_id).status == "CANCELLED"
    assert not PointUse.objects.filter(order_id=order_id, status="APPLIED").exists()
    assert event_types(api, order_id) == [
        "OrderCreated",
        "DeadlineReached",
        "OrderRejected",
        "PointUseCancelled",
        "ExchangeCancelled",
        "CompensationCompleted",
        "ExchangeExpired",
    ]
    order_page(page, live_server, api, order_id, "currency-100-expired")


def test_quiz_a_step_that_passed_its_expiry_check_applies_after_the_deadline(
    api, after_happy_path, celery_worker, settings, page, live_server
):
    # when the exchange step of currency 200 checks the deadline in time and applies after it
    settings.SAGA_DEADLINE_SECONDS = SHORT_DEADLINE
    order_id = api.post("/orders", {"holderId": "jjy", "currencyId": "200", "amount": "500"}).json()["id"]
    # then the order is rejected by the deadline ...
    settled(order_id)
    assert api.get(f"/orders/{order_id}").json()["statusText"] == "REJECTED DUE TO DEADLINE"
    # ... and when the late step finally applies, the tombstone refuses it
    wait_for(lambda: has_event(order_id, "ExchangeRefused"), timeout=60, what="the late exchange step to be refused")
    wait_quiet(celery_worker)
    order = api.get(f"/orders/{order_id}").json()
    assert (order["status"], order["statusText"]) == ("REJECTED", "REJECTED DUE TO DEADLINE")
    assert api.get("/points/jjy").json()["point"] == 9500
    assert stock(200) == STOCK
    assert Exchange.objects.get(order_id=order_id).status == "CANCELLED"
    assert not PointUse.objects.filter(order_id=order_id).exclude(status="CANCELLED").exists()
    events = event_types(api, order_id)
    assert "OrderPlaced" not in events and "PointUsed" not in events and "ExchangeSucceed" not in events
    assert events == [
        "OrderCreated",
        "DeadlineReached",
        "OrderRejected",
        "PointUseCancelled",
        "ExchangeCancelled",
        "CompensationCompleted",
        "ExchangeRefused",
    ]
    order_page(page, live_server, api, order_id, "currency-200-quiz")
