"""The saga's read side over HTTP: /orders/{id}/events, /events?orderId=, /deadlines.

Plain `django_db`: placing an order records its OrderCreated event and its first
attempt, but the test's transaction never commits, so no Celery message is published.
"""

import json

import pytest

from checkout.models import Saga, SagaEvent
from config.tests.bad_input import NOT_INTEGERS, NOT_ORDER_IDS, UNKNOWN_ORDER_IDS, above, as_text, below_one
from orders.models import Order

JSON = "application/json"
MAX_ORDER_ID = 2**63 - 1


def place_order(client, holder_id: str = "jjy", amount: int = 500) -> dict:
    response = client.post("/orders", json.dumps({"holderId": holder_id, "amount": amount}), content_type=JSON)
    assert response.status_code == 201, response.content
    return response.json()


# --- GET /orders/{id}/events -------------------------------------------------------------


@pytest.mark.django_db
def test_order_events_start_with_order_created(client, usd):
    # given
    order = place_order(client)
    saga = Saga.objects.get()
    # when
    response = client.get(f"/orders/{order['id']}/events")
    # then
    assert response.status_code == 200
    [event] = response.json()
    assert type(event.pop("timestamp")) is int
    assert event == {
        "eventType": "OrderCreated",
        "orderId": order["id"],
        "sagaId": saga.pk,
        "service": "orders",
        "id": order["id"],
        "holderId": "jjy",
        "currencyId": 1,
        "amount": 500,
        "lines": [{"currencyId": 1, "amount": 500}],
        "cost": 500,
        "attempt": 1,
        "deadline": saga.deadline_at.isoformat(),
    }


@pytest.mark.django_db
def test_order_events_show_only_that_order(client, usd):
    # given
    place_order(client, holder_id="kim")
    order = place_order(client, holder_id="jjy")
    # when
    response = client.get(f"/orders/{order['id']}/events")
    # then
    assert response.status_code == 200
    assert [(e["orderId"], e["holderId"]) for e in response.json()] == [(order["id"], "jjy")]


@pytest.mark.django_db
@pytest.mark.parametrize("order_id", UNKNOWN_ORDER_IDS)
def test_events_of_unknown_order_are_404(client, usd, order_id):
    # given
    place_order(client)
    # when
    response = client.get(f"/orders/{order_id}/events")
    # then
    assert response.status_code == 404
    assert response.json() == {"detail": "No Order matches the given query."}
    assert (Order.objects.count(), SagaEvent.objects.count()) == (1, 1)


@pytest.mark.django_db
@pytest.mark.parametrize("order_id", NOT_ORDER_IDS)
def test_events_of_order_id_that_is_not_a_number_are_404(client, order_id):
    # given / when
    response = client.get(f"/orders/{order_id}/events")
    # then
    assert response.status_code == 404


# --- GET /events ------------------------------------------------------------------------


@pytest.mark.django_db
def test_events_filtered_by_order(client, usd):
    # given
    place_order(client, holder_id="kim")
    order = place_order(client, holder_id="jjy")
    # when
    response = client.get("/events", {"orderId": str(order["id"])})
    # then
    assert response.status_code == 200
    assert [(e["eventType"], e["orderId"], e["holderId"]) for e in response.json()] == [
        ("OrderCreated", order["id"], "jjy")
    ]


@pytest.mark.django_db
def test_events_without_filter_show_every_order(client, usd):
    # given
    first = place_order(client, holder_id="kim")
    second = place_order(client, holder_id="jjy")
    # when
    response = client.get("/events")
    # then
    assert response.status_code == 200
    assert [(e["eventType"], e["orderId"]) for e in response.json()] == [
        ("OrderCreated", first["id"]),
        ("OrderCreated", second["id"]),
    ]


@pytest.mark.django_db
def test_events_of_an_order_without_events_are_empty(client, usd):
    # given
    place_order(client)
    # when
    response = client.get("/events", {"orderId": "999999"})
    # then
    assert response.status_code == 200
    assert response.json() == []


@pytest.mark.django_db
def test_no_events_is_an_empty_list(client):
    # given / when
    response = client.get("/events")
    # then
    assert response.status_code == 200
    assert response.json() == []


@pytest.mark.django_db
@pytest.mark.parametrize(("order_id", "errors"), as_text(NOT_INTEGERS + below_one(MAX_ORDER_ID) + above(MAX_ORDER_ID)))
def test_events_with_a_bad_order_id_are_400(client, usd, order_id, errors):
    # given
    place_order(client)
    # when
    response = client.get("/events", {"orderId": order_id})
    # then
    assert response.status_code == 400
    assert response.json() == {"orderId": errors}
    assert SagaEvent.objects.count() == 1


# --- GET /deadlines ---------------------------------------------------------------------


@pytest.mark.django_db
def test_deadlines_show_each_pending_attempt(client, usd):
    # given
    order = place_order(client)
    saga = Saga.objects.get()
    # when
    response = client.get("/deadlines")
    # then
    assert response.status_code == 200
    assert response.json()["count"] == 1
    assert response.json()["results"] == [
        {
            "sagaId": saga.pk,
            "orderId": order["id"],
            "attempt": 1,
            "deadline": order["deadline"],
            "status": "PENDING",
            "reason": "",
            "decidedAt": None,
            "compensatedAt": None,
        }
    ]


@pytest.mark.django_db
def test_no_deadlines_is_an_empty_list(client):
    # given / when
    response = client.get("/deadlines")
    # then
    assert response.status_code == 200
    assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}
