"""The lists' query parameters (config.api.FilterBackend, each app's filters.py): every filter narrows its list,
an unknown parameter or a bad value is a 400 that says what is wrong, and a filter never widens what a caller sees.

Two holders, each with an order, an attempt, an event, an exchange, a point use and an account: jjy's made in
January, kim's in February; kim's attempt was rejected.
"""

from datetime import UTC, datetime

import pytest
from rest_framework.test import APIClient

from callers.tokens import user_token_mint
from checkout.models import Saga, SagaEvent
from config.tests.bad_input import ID_MESSAGE, NOT_AN_INTEGER, TOO_SMALL
from exchanges.models import Exchange
from orders.models import Order
from points.models import PointAccount, PointUse

JANUARY = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
FEBRUARY = datetime(2026, 2, 5, 9, 0, tzinfo=UTC)
BETWEEN = "2026-01-20T00:00:00Z"

LISTS = ["/orders", "/points", "/currencies", "/exchanges", "/transactions", "/deadlines", "/events"]


@pytest.fixture
def two_holders(db, usd) -> dict[str, dict]:
    made = {}
    for holder, at, status in (("jjy", JANUARY, "APPROVED"), ("kim", FEBRUARY, "REJECTED")):
        reason = "POINT_LIMIT" if status == "REJECTED" else ""
        order = Order.objects.create(holder_id=holder, status=status, rejection_reason=reason)
        saga = Saga.objects.create(order=order, status=status, reason=reason, deadline_at=at, decided_at=at)
        SagaEvent.objects.create(order=order, saga=saga, event_type="OrderCreated", service="orders", timestamp=at)
        exchange_status, use_status = ("APPLIED", "APPLIED") if status == "APPROVED" else ("COMPENSATED", "FAILED")
        Exchange.objects.create(saga_id=saga.pk, order_id=order.pk, status=exchange_status, holder_id=holder)
        PointUse.objects.create(saga_id=saga.pk, order_id=order.pk, status=use_status, user_id=holder)
        PointAccount.objects.create(user_id=holder, balance=10)
        for model, holder_field in ((Order, "holder_id"), (Saga, "order__holder_id"), (PointAccount, "user_id")):
            model.objects.filter(**{holder_field: holder}).update(created_at=at)
        for model in (Exchange, PointUse):
            model.objects.filter(order_id=order.pk).update(created_at=at)
        made[holder] = {"order": order.pk, "saga": saga.pk}
    return made


def holders_listed(client, path: str, query: dict, made: dict) -> list[str]:
    """Whose rows `GET path?query` lists (each row's holder, found by its user or order id)."""
    response = client.get(path, query)
    assert response.status_code == 200, response.content
    body = response.json()
    rows = body if isinstance(body, list) else body["results"]
    holder_of = {ids["order"]: holder for holder, ids in made.items()}
    return sorted(row.get("holderId") or row.get("userId") or holder_of[row["orderId"]] for row in rows)


FILTERS = [
    ("/orders", {"holderId": "kim"}, ["kim"]),
    ("/orders", {"orderId": "{kim}"}, ["kim"]),
    ("/orders", {"status": "REJECTED"}, ["kim"]),
    ("/orders", {"createdAfter": BETWEEN}, ["kim"]),
    ("/orders", {"createdBefore": BETWEEN}, ["jjy"]),
    ("/orders", {"holderId": "jjy", "status": "REJECTED"}, []),
    ("/points", {"userId": "kim"}, ["kim"]),
    ("/points", {"createdAfter": BETWEEN}, ["kim"]),
    ("/points", {"createdBefore": BETWEEN}, ["jjy"]),
    ("/exchanges", {"userId": "kim"}, ["kim"]),
    ("/exchanges", {"orderId": "{kim}"}, ["kim"]),
    ("/exchanges", {"sagaId": "{kim-saga}"}, ["kim"]),
    ("/exchanges", {"status": "COMPENSATED"}, ["kim"]),
    ("/exchanges", {"createdAfter": BETWEEN}, ["kim"]),
    ("/exchanges", {"createdBefore": BETWEEN}, ["jjy"]),
    ("/transactions", {"userId": "kim"}, ["kim"]),
    ("/transactions", {"orderId": "{kim}"}, ["kim"]),
    ("/transactions", {"sagaId": "{kim-saga}"}, ["kim"]),
    ("/transactions", {"status": "FAILED"}, ["kim"]),
    ("/transactions", {"createdAfter": BETWEEN}, ["kim"]),
    ("/transactions", {"createdBefore": BETWEEN}, ["jjy"]),
    ("/deadlines", {"holderId": "kim"}, ["kim"]),
    ("/deadlines", {"orderId": "{kim}"}, ["kim"]),
    ("/deadlines", {"status": "REJECTED"}, ["kim"]),
    ("/deadlines", {"createdAfter": BETWEEN}, ["kim"]),
    ("/deadlines", {"createdBefore": BETWEEN}, ["jjy"]),
    ("/events", {"holderId": "kim"}, ["kim"]),
    ("/events", {"orderId": "{kim}"}, ["kim"]),
    ("/events", {"createdAfter": BETWEEN}, ["kim"]),
    ("/events", {"createdBefore": BETWEEN}, ["jjy"]),
]


@pytest.mark.parametrize(("path", "query", "listed"), FILTERS, ids=[f"{p}?{'&'.join(q)}" for p, q, _ in FILTERS])
def test_each_filter_narrows_its_list(client, two_holders, path, query, listed):
    # given
    ids = {"{kim}": str(two_holders["kim"]["order"]), "{kim-saga}": str(two_holders["kim"]["saga"])}
    query = {name: ids.get(value, value) for name, value in query.items()}
    assert holders_listed(client, path, {}, two_holders) == ["jjy", "kim"]  # unfiltered: both
    # when / then
    assert holders_listed(client, path, query, two_holders) == listed


@pytest.mark.parametrize("path", LISTS)
def test_an_unknown_query_parameter_is_a_400_naming_it_and_the_accepted_ones(client, two_holders, path):
    # when
    response = client.get(path, {"statusx": "REJECTED", **({} if path == "/events" else {"page": "1"})})
    # then
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert detail.startswith("Unknown query parameter: statusx. This list accepts: ")
    assert "format" in detail


def test_the_400_for_an_unknown_parameter_lists_every_accepted_one(client, db):
    # when
    response = client.get("/orders", {"statusx": "REJECTED", "holder": "jjy"})
    # then
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Unknown query parameter: holder, statusx. This list accepts: "
        "createdAfter, createdBefore, format, holderId, orderId, page, status."
    }


@pytest.mark.parametrize("path", LISTS)
def test_page_and_format_are_still_accepted(client, two_holders, path):
    # when
    response = client.get(path, {"format": "json", **({} if path == "/events" else {"page": "1"})})
    # then
    assert response.status_code == 200, response.content


def test_a_detail_view_is_not_filtered_by_a_list_query(client, two_holders):
    # given
    jjy = two_holders["jjy"]["order"]
    # when
    response = client.get(f"/orders/{jjy}", {"status": "REJECTED"})
    # then
    assert (response.status_code, response.json()["id"]) == (200, jjy)


BAD_VALUES = [
    ("/orders", "createdAfter", "yesterday", ["Enter a valid date/time."]),
    ("/orders", "createdBefore", "2026-13-01", ["Enter a valid date/time."]),
    ("/orders", "orderId", "abc", [NOT_AN_INTEGER]),
    ("/orders", "orderId", "1.5", [NOT_AN_INTEGER]),
    ("/orders", "orderId", "0", [TOO_SMALL]),
    ("/orders", "orderId", str(2**63), ["Ensure this value is less than or equal to 9223372036854775807."]),
    ("/orders", "holderId", "j jy", [ID_MESSAGE]),
    ("/orders", "status", "LOST", ["Select a valid choice. LOST is not one of the available choices."]),
    ("/points", "userId", "a/b", [ID_MESSAGE]),
    ("/points", "createdAfter", "yesterday", ["Enter a valid date/time."]),
    ("/exchanges", "orderId", "abc", [NOT_AN_INTEGER]),
    ("/exchanges", "sagaId", "-1", [TOO_SMALL]),
    ("/exchanges", "status", "LOST", ["Select a valid choice. LOST is not one of the available choices."]),
    ("/transactions", "userId", "x" * 65, [ID_MESSAGE]),
    ("/transactions", "createdBefore", "soon", ["Enter a valid date/time."]),
    ("/deadlines", "orderId", "abc", [NOT_AN_INTEGER]),
    ("/deadlines", "status", "OPEN", ["Select a valid choice. OPEN is not one of the available choices."]),
    ("/events", "createdAfter", "yesterday", ["Enter a valid date/time."]),
    ("/events", "holderId", "j jy", [ID_MESSAGE]),
]


@pytest.mark.parametrize(
    ("path", "name", "value", "errors"), BAD_VALUES, ids=[f"{p}?{n}={v[:8]}" for p, n, v, _ in BAD_VALUES]
)
def test_a_bad_filter_value_is_a_400_naming_the_parameter(client, two_holders, path, name, value, errors):
    # when
    response = client.get(path, {name: value})
    # then
    assert response.status_code == 400
    assert response.json() == {name: errors}


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/orders", {"holderId": "kim"}),
        ("/points", {"userId": "kim"}),
        ("/exchanges", {"userId": "kim"}),
        ("/transactions", {"userId": "kim"}),
        ("/deadlines", {"holderId": "kim"}),
        ("/events", {"holderId": "kim"}),
    ],
)
def test_a_filter_never_widens_what_an_end_user_sees(two_holders, settings, path, query):
    # given
    settings.SAGA_API_MODE = "protected"
    jjy = APIClient()
    jjy.credentials(HTTP_AUTHORIZATION=f"Bearer {user_token_mint(user_id='jjy')}")
    # when
    unfiltered = holders_listed(jjy, path, {}, two_holders)
    filtered = holders_listed(jjy, path, query, two_holders)
    # then
    assert (unfiltered, filtered) == (["jjy"], [])


def test_an_end_user_asking_for_anothers_orders_events_is_a_404(two_holders, settings):
    # given
    settings.SAGA_API_MODE = "protected"
    jjy = APIClient()
    jjy.credentials(HTTP_AUTHORIZATION=f"Bearer {user_token_mint(user_id='jjy')}")
    # when
    response = jjy.get("/events", {"orderId": two_holders["kim"]["order"]})
    # then
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("moment", "listed"),
    [
        ("0092-09-28T14:36:46.528996-16:55", ["jjy", "kim"]),  # an offset PostgreSQL refuses as it is
        ("2026-01-20T00:00:00+15:59", ["kim"]),
        ("0001-01-01T00:00:00+05:00", ["jjy", "kim"]),  # before year 1 in UTC
        ("9999-12-31T23:59:59-05:00", []),  # after year 9999 in UTC
    ],
)
def test_any_iso_date_time_is_a_bound_however_far_its_offset_or_year(client, two_holders, moment, listed):
    # when / then
    assert holders_listed(client, "/orders", {"createdAfter": moment}, two_holders) == listed
