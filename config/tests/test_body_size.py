"""A request body past DATA_UPLOAD_MAX_MEMORY_SIZE is a 413 `{"detail"}` on every route, never a 500 or an HTML page."""

import json

import pytest
import requests

from checkout.models import IdempotentRequest
from exchanges.models import Currency
from orders.models import Order
from points.models import PointAccount

pytestmark = pytest.mark.django_db

TEN_MB = 10 * 1024 * 1024
ROUTES = [
    pytest.param("/orders", {"holderId": "jjy", "amount": 500}, id="orders"),
    pytest.param("/points", {"userId": "jjy", "point": 10000}, id="points"),
    pytest.param("/wdm/payment/create_user", {}, id="wdm-create-user"),
    pytest.param("/wdm/stock/item/create/5", {}, id="wdm-create-item"),
]


def padded(fields: dict, size: int) -> bytes:
    """`fields` as a JSON object of exactly `size` bytes, the rest a padding field the API does not know."""
    empty = json.dumps({**fields, "padding": ""}).encode()
    return json.dumps({**fields, "padding": "x" * (size - len(empty))}).encode()


def nothing_created() -> bool:
    models = (PointAccount, Order, Currency, IdempotentRequest)
    return not any(model.objects.exists() for model in models)


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize(("path", "fields"), ROUTES)
def test_a_10_mb_body_is_a_413_in_the_apis_shape(client, settings, path, fields, debug):
    # given
    settings.DEBUG = debug
    # when
    answer = client.post(path, padded(fields, TEN_MB), content_type="application/json", HTTP_IDEMPOTENCY_KEY="k1")
    # then
    assert answer.status_code == 413
    assert answer["Content-Type"] == "application/json"
    assert answer.json() == {"detail": f"Request body too large: at most {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes."}
    assert nothing_created()


def test_the_limit_is_the_body_size_not_less(client, settings, usd):
    # given two deposits, one exactly at the limit and one a byte past it
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    # when
    at = client.post("/points", padded({"userId": "jjy", "point": 100}, limit), content_type="application/json")
    past = client.post("/points", padded({"userId": "ann", "point": 100}, limit + 1), content_type="application/json")
    # then
    assert (at.status_code, at.json()["point"]) == (201, 100)
    assert past.status_code == 413
    assert list(PointAccount.objects.values_list("user_id", flat=True)) == ["jjy"]


def test_over_http_too(live_server):
    # when: 10 MB to the live server, as a client on the network sends it
    answer = requests.post(
        f"{live_server.url}/wdm/payment/create_user",
        data=b"x" * TEN_MB,
        headers={"Content-Type": "application/octet-stream"},
        timeout=60,
    )
    # then
    assert (answer.status_code, answer.headers["Content-Type"]) == (413, "application/json")
    assert answer.json()["detail"].startswith("Request body too large")
    assert nothing_created()
