"""The orders API in the seed dialect: good orders are placed, bad input is a clear 400 and places nothing.

Plain `django_db`: the test's transaction never commits, so the saga's `on_commit`
publish never runs and no Celery message leaves the process.
"""

import json

import pytest

from checkout.models import Saga, SagaEvent
from config.tests.bad_input import (
    BAD_IDS,
    NOT_AN_INTEGER,
    NOT_INTEGERS,
    NOT_ORDER_IDS,
    TOO_SMALL,
    UNKNOWN_ORDER_IDS,
    above,
    below_one,
    malformed_json,
    not_objects,
    too_large,
)
from exchanges.models import Currency
from exchanges.services import currency_upsert
from orders.models import Order, OrderLine

JSON = "application/json"
MAX_AMOUNT = 10**9
MAX_CURRENCY = 2**31 - 1
AMOUNT_TOO_LARGE = too_large(MAX_AMOUNT)
EITHER_OR = "Give either lines, or currencyId and amount, not both."


def post_order(client, payload):
    """POST /orders with `payload` encoded as JSON, whatever its type."""
    return client.post("/orders", json.dumps(payload), content_type=JSON)


def nothing_placed() -> bool:
    return not (
        Order.objects.exists() or OrderLine.objects.exists() or Saga.objects.exists() or SagaEvent.objects.exists()
    )


def without_times(body: dict) -> dict:
    """The order as returned, minus its two timestamps (checked against the row separately)."""
    return {key: value for key, value in body.items() if key not in ("deadline", "createdAt")}


# --- POST /orders: good input -----------------------------------------------------------


@pytest.mark.django_db
def test_seed_string_typed_order_is_placed_with_integer_fields(client, usd):
    # given
    payload = {"holderId": "jjy", "currencyId": "1", "amount": "500"}
    # when
    response = post_order(client, payload)
    # then
    assert response.status_code == 201, response.content
    order = Order.objects.get()
    body = response.json()
    assert without_times(body) == {
        "id": order.pk,
        "holderId": "jjy",
        "currencyId": 1,
        "amount": 500,
        "lines": [{"currencyId": 1, "amount": 500, "unitPrice": 1}],
        "totalCost": 500,
        "status": "PENDING",
        "rejectionReason": None,
        "statusText": "PENDING",
    }
    assert [type(body[key]) for key in ("id", "currencyId", "amount", "totalCost")] == [int, int, int, int]
    assert body["deadline"] is not None
    assert body["createdAt"] is not None
    assert response["Location"] == f"/orders/{order.pk}"
    assert list(order.lines.values_list("currency_id", "amount", "unit_price")) == [(1, 500, 1)]
    assert (order.holder_id, order.total_cost, order.status) == ("jjy", 500, "PENDING")
    saga = Saga.objects.get()
    assert (saga.order_id, saga.attempt, saga.status, saga.deadline_at) == (order.pk, 1, "PENDING", order.deadline_at)
    assert list(SagaEvent.objects.values_list("event_type", flat=True)) == ["OrderCreated"]


@pytest.mark.django_db
def test_currency_defaults_to_1(client, usd):
    # given
    payload = {"holderId": "jjy", "amount": 500}
    # when
    response = post_order(client, payload)
    # then
    assert response.status_code == 201, response.content
    assert (response.json()["currencyId"], response.json()["amount"], response.json()["totalCost"]) == (1, 500, 500)
    assert list(OrderLine.objects.values_list("currency_id", "amount")) == [(1, 500)]


@pytest.mark.django_db
@pytest.mark.parametrize("amount", ["500.0", 500.0, "500.000", " 500 "], ids=["string", "float", "zeros", "spaces"])
def test_amount_with_a_zero_fraction_is_accepted_as_an_integer(client, usd, amount):
    # given
    payload = {"holderId": "jjy", "currencyId": 1, "amount": amount}
    # when
    response = post_order(client, payload)
    # then
    assert response.status_code == 201, response.content
    assert response.json()["amount"] == 500
    assert type(response.json()["amount"]) is int
    assert list(OrderLine.objects.values_list("amount", flat=True)) == [500]


@pytest.mark.django_db
def test_largest_amount_is_accepted(client, usd):
    # given
    payload = {"holderId": "jjy", "currencyId": 1, "amount": 10**9}
    # when
    response = post_order(client, payload)
    # then
    assert response.status_code == 201, response.content
    assert (response.json()["amount"], response.json()["totalCost"]) == (10**9, 10**9)


@pytest.mark.django_db
def test_order_of_several_lines_is_priced_at_each_rate(client, usd):
    # given
    currency_upsert(currency_id=2, code="EUR", rate=2, stock=1000)
    payload = {"holderId": "jjy", "lines": [{"currencyId": 1, "amount": 500}, {"currencyId": "2", "amount": "30"}]}
    # when
    response = post_order(client, payload)
    # then
    assert response.status_code == 201, response.content
    order = Order.objects.get()
    assert without_times(response.json()) == {
        "id": order.pk,
        "holderId": "jjy",
        "currencyId": None,
        "amount": None,
        "lines": [{"currencyId": 1, "amount": 500, "unitPrice": 1}, {"currencyId": 2, "amount": 30, "unitPrice": 2}],
        "totalCost": 560,
        "status": "PENDING",
        "rejectionReason": None,
        "statusText": "PENDING",
    }
    assert list(order.lines.values_list("currency_id", "amount", "unit_price")) == [(1, 500, 1), (2, 30, 2)]


@pytest.mark.django_db
def test_one_line_order_reads_like_the_seed(client, usd):
    # given
    payload = {"holderId": "jjy", "lines": [{"currencyId": 1, "amount": 500}]}
    # when
    response = post_order(client, payload)
    # then
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["currencyId"], body["amount"], body["totalCost"]) == (1, 500, 500)


@pytest.mark.django_db
def test_order_of_100_lines_is_accepted(client, usd):
    # given
    payload = {"holderId": "jjy", "lines": [{"currencyId": 1, "amount": 1}] * 100}
    # when
    response = post_order(client, payload)
    # then
    assert response.status_code == 201, response.content
    assert response.json()["totalCost"] == 100
    assert OrderLine.objects.count() == 100


@pytest.mark.django_db
@pytest.mark.parametrize(
    "holder_id", ["a" * 64, "j.j-y_1+x@example.com", 42], ids=["64-chars", "punctuation", "number"]
)
def test_holder_id_of_allowed_characters_is_accepted(client, usd, holder_id):
    # given
    payload = {"holderId": holder_id, "amount": 1}
    # when
    response = post_order(client, payload)
    # then
    assert response.status_code == 201, response.content
    assert response.json()["holderId"] == str(holder_id)
    assert Order.objects.get().holder_id == str(holder_id)


# --- POST /orders: bad input ------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        ({}, {"holderId": ["This field is required."]}),
        ({"currencyId": 1, "amount": 500}, {"holderId": ["This field is required."]}),
        ({"holderId": "jjy"}, {"amount": ["This field is required (or give lines)."]}),
        ({"holderId": "jjy", "currencyId": 1}, {"amount": ["This field is required (or give lines)."]}),
    ],
    ids=["empty-object", "no-holderId", "no-amount", "currency-but-no-amount"],
)
def test_missing_fields_are_rejected(client, usd, payload, errors):
    # given / when
    response = post_order(client, payload)
    # then
    assert response.status_code == 400
    assert response.json() == errors
    assert nothing_placed()


@pytest.mark.django_db
def test_empty_body_is_rejected(client, usd):
    # given / when
    response = client.post("/orders", "", content_type=JSON)
    # then
    assert response.status_code == 400
    assert response.json() == {"holderId": ["This field is required."]}
    assert nothing_placed()


@pytest.mark.django_db
@pytest.mark.parametrize(("amount", "errors"), below_one(MAX_AMOUNT))
def test_zero_or_negative_amount_is_rejected(client, usd, amount, errors):
    # given / when
    response = post_order(client, {"holderId": "jjy", "currencyId": 1, "amount": amount})
    # then
    assert response.status_code == 400
    assert response.json() == {"amount": errors}
    assert nothing_placed()


@pytest.mark.django_db
@pytest.mark.parametrize(("currency_id", "errors"), below_one(MAX_CURRENCY))
def test_zero_or_negative_currency_is_rejected(client, usd, currency_id, errors):
    # given / when
    response = post_order(client, {"holderId": "jjy", "currencyId": currency_id, "amount": 500})
    # then
    assert response.status_code == 400
    assert response.json() == {"currencyId": errors}
    assert nothing_placed()


@pytest.mark.django_db
@pytest.mark.parametrize(("amount", "errors"), NOT_INTEGERS)
def test_amount_that_is_not_an_integer_is_rejected(client, usd, amount, errors):
    # given / when
    response = post_order(client, {"holderId": "jjy", "currencyId": 1, "amount": amount})
    # then
    assert response.status_code == 400
    assert response.json() == {"amount": errors}
    assert nothing_placed()


@pytest.mark.django_db
@pytest.mark.parametrize(("currency_id", "errors"), NOT_INTEGERS)
def test_currency_that_is_not_an_integer_is_rejected(client, usd, currency_id, errors):
    # given / when
    response = post_order(client, {"holderId": "jjy", "currencyId": currency_id, "amount": 500})
    # then
    assert response.status_code == 400
    assert response.json() == {"currencyId": errors}
    assert nothing_placed()


@pytest.mark.django_db
@pytest.mark.parametrize(("amount", "errors"), above(MAX_AMOUNT))
def test_oversized_amount_is_rejected(client, usd, amount, errors):
    # given / when
    response = post_order(client, {"holderId": "jjy", "currencyId": 1, "amount": amount})
    # then
    assert response.status_code == 400
    assert response.json() == {"amount": errors}
    assert nothing_placed()


@pytest.mark.django_db
@pytest.mark.parametrize(("currency_id", "errors"), above(MAX_CURRENCY))
def test_oversized_currency_is_rejected(client, usd, currency_id, errors):
    # given / when
    response = post_order(client, {"holderId": "jjy", "currencyId": currency_id, "amount": 500})
    # then
    assert response.status_code == 400
    assert response.json() == {"currencyId": errors}
    assert nothing_placed()


@pytest.mark.django_db
def test_huge_json_number_is_rejected(client, usd):
    # given: 1e400 is read as infinity by Python's JSON parser
    body = '{"holderId": "jjy", "currencyId": 1, "amount": 1e400}'
    # when
    response = client.post("/orders", body, content_type=JSON)
    # then
    assert response.status_code == 400
    assert response.json() == {"amount": [NOT_AN_INTEGER]}
    assert nothing_placed()


@pytest.mark.django_db
def test_order_whose_cost_does_not_fit_is_rejected(client, usd):
    # given: a rate any admin may set, and the largest amount an order line may have
    currency_upsert(currency_id=9, code="GOLD", rate=10**10, stock=10**12)
    # when
    response = post_order(client, {"holderId": "jjy", "currencyId": 9, "amount": 10**9})
    # then: 10**19 points exceeds a bigint; that is bad input, not a server error
    assert response.status_code == 400
    assert response.json() == {
        "amount": ["The order would cost 10000000000000000000 points; an order may cost at most 10**15."]
    }
    assert nothing_placed()


@pytest.mark.django_db
@pytest.mark.parametrize(("currency_id", "name"), [(999, "999"), ("7", "7"), (2**31 - 1, "2147483647")])
def test_unknown_currency_is_rejected_by_name(client, usd, currency_id, name):
    # given / when
    response = post_order(client, {"holderId": "jjy", "currencyId": currency_id, "amount": 500})
    # then
    assert response.status_code == 400
    assert response.json() == {"currencyId": [f"Unknown currency: {name}."]}
    assert nothing_placed()


@pytest.mark.django_db
def test_unknown_currencies_among_lines_are_all_named(client, usd):
    # given
    lines = [{"currencyId": 999, "amount": 1}, {"currencyId": 1, "amount": 1}, {"currencyId": 998, "amount": 1}]
    # when
    response = post_order(client, {"holderId": "jjy", "lines": lines})
    # then
    assert response.status_code == 400
    assert response.json() == {"currencyId": ["Unknown currency: 998, 999."]}
    assert nothing_placed()


@pytest.mark.django_db
def test_currency_1_must_exist_for_the_default(client):
    # given: no currency at all
    assert not Currency.objects.exists()
    # when
    response = post_order(client, {"holderId": "jjy", "amount": 500})
    # then
    assert response.status_code == 400
    assert response.json() == {"currencyId": ["Unknown currency: 1."]}
    assert nothing_placed()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "payload",
    [
        {"holderId": "jjy", "amount": 500, "lines": [{"currencyId": 1, "amount": 500}]},
        {"holderId": "jjy", "currencyId": 1, "lines": [{"currencyId": 1, "amount": 500}]},
        {"holderId": "jjy", "currencyId": 1, "amount": 500, "lines": [{"currencyId": 1, "amount": 500}]},
    ],
    ids=["amount-and-lines", "currency-and-lines", "all-three"],
)
def test_lines_and_amount_together_are_rejected(client, usd, payload):
    # given / when
    response = post_order(client, payload)
    # then
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": [EITHER_OR]}
    assert nothing_placed()


@pytest.mark.django_db
def test_empty_lines_are_rejected(client, usd):
    # given / when
    response = post_order(client, {"holderId": "jjy", "lines": []})
    # then
    assert response.status_code == 400
    assert response.json() == {"lines": {"non_field_errors": ["This list may not be empty."]}}
    assert nothing_placed()


@pytest.mark.django_db
def test_more_than_100_lines_are_rejected(client, usd):
    # given
    lines = [{"currencyId": 1, "amount": 1}] * 101
    # when
    response = post_order(client, {"holderId": "jjy", "lines": lines})
    # then
    assert response.status_code == 400
    assert response.json() == {"lines": {"non_field_errors": ["Ensure this field has no more than 100 elements."]}}
    assert nothing_placed()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("lines", "errors"),
    [
        (None, ["This field may not be null."]),
        ({}, {"non_field_errors": ['Expected a list of items but got type "dict".']}),
        ("abc", {"non_field_errors": ['Expected a list of items but got type "str".']}),
        (500, {"non_field_errors": ['Expected a list of items but got type "int".']}),
        ([500], {"0": {"non_field_errors": ["Invalid data. Expected a dictionary, but got int."]}}),
        ([{}], {"0": {"currencyId": ["This field is required."], "amount": ["This field is required."]}}),
        ([{"currencyId": 1, "amount": 0}], {"0": {"amount": [TOO_SMALL]}}),
        ([{"currencyId": 1, "amount": 10**9 + 1}], {"0": {"amount": [AMOUNT_TOO_LARGE]}}),
        (
            [{"currencyId": "abc", "amount": "1e3"}],
            {"0": {"currencyId": [NOT_AN_INTEGER], "amount": [NOT_AN_INTEGER]}},
        ),
        (
            [{"currencyId": 1, "amount": 1}, {"currencyId": 1, "amount": -1}],
            {"1": {"amount": [TOO_SMALL]}},
        ),
    ],
    ids=[
        "null",
        "object",
        "string",
        "number",
        "list-of-numbers",
        "empty-line",
        "zero-amount",
        "oversized-amount",
        "not-numbers",
        "second-line-bad",
    ],
)
def test_bad_lines_are_rejected(client, usd, lines, errors):
    # given / when
    response = post_order(client, {"holderId": "jjy", "lines": lines})
    # then
    assert response.status_code == 400
    assert response.json() == {"lines": errors}
    assert nothing_placed()


@pytest.mark.django_db
@pytest.mark.parametrize(("holder_id", "errors"), BAD_IDS)
def test_bad_holder_id_is_rejected(client, usd, holder_id, errors):
    # given / when
    response = post_order(client, {"holderId": holder_id, "currencyId": 1, "amount": 500})
    # then
    assert response.status_code == 400
    assert response.json() == {"holderId": errors}
    assert nothing_placed()


@pytest.mark.django_db
@pytest.mark.parametrize(("payload", "errors"), not_objects({"holderId": "jjy", "amount": 500}))
def test_json_that_is_not_an_object_is_rejected(client, usd, payload, errors):
    # given / when
    response = post_order(client, payload)
    # then
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": errors}
    assert nothing_placed()


@pytest.mark.django_db
@pytest.mark.parametrize("body", malformed_json("holderId", "amount"))
def test_malformed_json_is_rejected(client, usd, body):
    # given / when
    response = client.post("/orders", body, content_type=JSON)
    # then
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error - ")
    assert nothing_placed()


# --- GET /orders, /orders/{id} ----------------------------------------------------------


@pytest.mark.django_db
def test_orders_are_listed_newest_first(client, usd):
    # given
    first = post_order(client, {"holderId": "jjy", "amount": 500}).json()
    second = post_order(client, {"holderId": "kim", "amount": 7}).json()
    # when
    response = client.get("/orders")
    # then
    assert response.status_code == 200
    assert response.json() == {"count": 2, "next": None, "previous": None, "results": [second, first]}


@pytest.mark.django_db
def test_no_orders_is_an_empty_list(client):
    # given / when
    response = client.get("/orders")
    # then
    assert response.status_code == 200
    assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}


@pytest.mark.django_db
def test_one_order_is_shown_as_placed(client, usd):
    # given
    placed = post_order(client, {"holderId": "jjy", "currencyId": "1", "amount": "500"}).json()
    # when
    response = client.get(f"/orders/{placed['id']}")
    # then
    assert response.status_code == 200
    assert response.json() == placed


@pytest.mark.django_db
@pytest.mark.parametrize("order_id", UNKNOWN_ORDER_IDS)
def test_unknown_order_is_404(client, usd, order_id):
    # given
    post_order(client, {"holderId": "jjy", "amount": 500})
    # when
    response = client.get(f"/orders/{order_id}")
    # then
    assert response.status_code == 404
    assert response.json() == {"detail": "No Order matches the given query."}
    assert Order.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("order_id", NOT_ORDER_IDS)
def test_order_id_that_is_not_a_number_is_404(client, order_id):
    # given / when
    response = client.get(f"/orders/{order_id}")
    # then
    assert response.status_code == 404


@pytest.mark.django_db
def test_orders_are_filtered_by_status_and_holder(client, usd):
    # given
    mine = post_order(client, {"holderId": "jjy", "amount": 1}).json()
    post_order(client, {"holderId": "kim", "amount": 1})
    Order.objects.filter(pk=mine["id"]).update(status="REJECTED", rejection_reason="DEADLINE")
    # when / then
    by_holder = client.get("/orders", {"holderId": "jjy"}).json()
    assert [o["id"] for o in by_holder["results"]] == [mine["id"]]
    assert client.get("/orders", {"status": "REJECTED"}).json()["count"] == 1
    assert client.get("/orders", {"status": "PENDING", "holderId": "jjy"}).json()["count"] == 0


@pytest.mark.django_db
def test_a_bad_filter_is_a_400(client, usd):
    response = client.get("/orders", {"status": "LOST"})
    assert response.status_code == 400
    assert "status" in response.json()


@pytest.mark.django_db
def test_lists_are_paginated(client, usd):
    for _ in range(101):
        Order.objects.create(holder_id="jjy")
    first = client.get("/orders").json()
    assert (first["count"], len(first["results"])) == (101, 100)
    assert first["next"].endswith("/orders?page=2")
    assert len(client.get("/orders", {"page": 2}).json()["results"]) == 1
