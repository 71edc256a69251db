"""Every API route of both dialects, called as each kind of caller in the protected mode (ADR 0012).

For each route: no credentials, a revoked key, a key without the route's scope and (where the
route acts on an account) another user's token are refused, and nothing in the database moved;
then a key with the scope (and the owner's token, where end users may call it) is served.
"""

from dataclasses import dataclass

import pytest
import requests
from django.db.models import Sum

from callers.models import Scope, ServiceKey
from callers.tokens import user_token_mint
from checkout.models import IdempotentRequest, OutboxMessage, Saga, SagaEvent
from checkout.services import order_start_empty
from exchanges.models import Currency, StockEntry
from exchanges.services import currency_upsert
from orders.models import Order
from orders.services import order_add_item
from points.models import PointAccount, PointEntry
from points.services import points_deposit

ALICE, BOB = "alice", "bob"


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # {account}: the account acted on; {order}: an order of that account; {item}: a currency
    scope: Scope
    body: dict | None = None
    owner: str = ""  # "account" or "order": the route acts on one account, which an end user must own
    private: bool = False  # another user's account or order is a 404 (its existence is private), else 403
    needs_worker: bool = False

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


ROUTES = [
    # the seed dialect
    Route("GET", "/orders", Scope.READ),
    Route("POST", "/orders", Scope.ORDERS_PLACE, {"holderId": "{account}", "currencyId": 1, "amount": 5}, "account"),
    Route("GET", "/orders/{order}", Scope.READ, owner="order", private=True),
    Route("GET", "/orders/{order}/events", Scope.READ, owner="order", private=True),
    Route("GET", "/points", Scope.READ),
    Route("POST", "/points", Scope.POINTS_MINT, {"userId": "{account}", "point": 5}),
    Route("GET", "/points/{account}", Scope.READ, owner="account", private=True),
    Route("GET", "/transactions", Scope.READ),
    Route("GET", "/currencies", Scope.READ),
    Route("GET", "/exchanges", Scope.READ),
    Route("GET", "/events", Scope.READ),
    Route("GET", "/events?orderId={order}", Scope.READ, owner="order", private=True),
    Route("GET", "/events/stream?orderId={order}&seconds=1", Scope.READ, owner="order", private=True),
    Route("GET", "/deadlines", Scope.READ),
    Route("GET", "/my-page/{account}", Scope.READ, owner="account", private=True),
    Route("POST", "/auth/tokens", Scope.USERS_TOKEN, {"userId": "{account}"}),
    # the /wdm dialect
    Route("POST", "/wdm/payment/create_user", Scope.POINTS_MINT),
    Route("GET", "/wdm/payment/find_user/{account}", Scope.READ, owner="account", private=True),
    Route("POST", "/wdm/payment/add_funds/{account}/5", Scope.POINTS_MINT),
    Route("POST", "/wdm/payment/pay/{account}/5", Scope.POINTS_MOVE, owner="account"),
    Route("POST", "/wdm/stock/item/create/3", Scope.STOCK_WRITE),
    Route("GET", "/wdm/stock/find/{item}", Scope.READ),
    Route("POST", "/wdm/stock/add/{item}/5", Scope.STOCK_WRITE),
    Route("POST", "/wdm/stock/subtract/{item}/5", Scope.STOCK_WRITE),
    Route("POST", "/wdm/orders/create/{account}", Scope.ORDERS_PLACE, owner="account"),
    Route("GET", "/wdm/orders/find/{order}", Scope.READ, owner="order", private=True),
    Route("POST", "/wdm/orders/addItem/{order}/{item}/1", Scope.ORDERS_PLACE, owner="order"),
    Route("POST", "/wdm/orders/checkout/{order}", Scope.ORDERS_PLACE, owner="order", needs_worker=True),
    Route("POST", "/wdm/payment/batch_init/2/100", Scope.BATCH_INIT),
    Route("POST", "/wdm/stock/batch_init/2/10/3", Scope.BATCH_INIT),
    Route("POST", "/wdm/orders/batch_init/2/2/2/3", Scope.BATCH_INIT),
]


def snapshot() -> dict:
    """What a refused request must not have moved."""
    counts = {
        model.__name__: model.objects.count()
        for model in (Order, PointAccount, PointEntry, Currency, StockEntry, Saga, SagaEvent, OutboxMessage)
    }
    counts["IdempotentRequest"] = IdempotentRequest.objects.count()
    counts["balances"] = PointAccount.objects.aggregate(total=Sum("balance"))["total"]
    counts["stock"] = Currency.objects.aggregate(total=Sum("stock"))["total"]
    counts["orders"] = sorted(Order.objects.values_list("id", "holder_id", "status", "generation"))
    return counts


@pytest.fixture
def protected(settings):
    settings.SAGA_API_MODE = "protected"
    settings.SAGA_BATCH_INIT = True  # batch_init's own switch is tested below; here, its scope


@pytest.fixture
def world(transactional_db):
    """Alice's and Bob's accounts, each with an order of one line of currency 1."""
    currency_upsert(currency_id=1, code="USD", rate=1, stock=1_000)
    orders = {}
    for user in (ALICE, BOB):
        points_deposit(user_id=user, amount=1_000)
        orders[user] = order_start_empty(holder_id=user).pk
        order_add_item(order_id=orders[user], currency_id=1, quantity=2)
    return orders


def key_with(*scopes: str, revoked: bool = False) -> str:
    service_key, key = ServiceKey.objects.create_key(name="test", scopes=list(scopes))
    if revoked:
        ServiceKey.objects.filter(pk=service_key.pk).update(revoked=True)
    return f"Api-Key {key}"


def call(live_server, route: Route, world: dict, *, authorization: str | None, account: str = ALICE):
    values = {"account": account, "order": world[account], "item": 1}
    body = {k: v.format(**values) if isinstance(v, str) else v for k, v in (route.body or {}).items()}
    headers = {"Authorization": authorization} if authorization else {}
    return requests.request(
        route.method,
        live_server.url + route.path.format(**values),
        json=body if route.body else None,
        headers=headers,
        timeout=120,
    )


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_each_route_serves_only_the_callers_its_scope_and_account_allow(live_server, world, protected, route, request):
    if route.needs_worker:
        request.getfixturevalue("celery_worker")
    before = snapshot()
    every_other_scope = [scope for scope in Scope if scope != route.scope]
    refusals = {
        "no credentials": (None, 401),
        "an unknown key": ("Api-Key abcdefgh.not-a-key", 401),
        "a revoked key": (key_with(*Scope, revoked=True), 401),
        "a malformed token": ("Bearer alice:not-signed", 401),
        "a key without the scope": (key_with(*every_other_scope), 403),
    }
    if route.owner:
        refusals["another user's token"] = (f"Bearer {user_token_mint(user_id=BOB)}", 404 if route.private else 403)
    elif route.scope not in (Scope.READ, Scope.ORDERS_PLACE, Scope.POINTS_MOVE):
        refusals["a user's token"] = (f"Bearer {user_token_mint(user_id=ALICE)}", 403)
    for who, (authorization, status) in refusals.items():
        answer = call(live_server, route, world, authorization=authorization)
        assert answer.status_code == status, (who, answer.status_code, answer.text)
        assert "detail" in answer.json(), (who, answer.text)
        if status == 401:
            assert answer.headers["WWW-Authenticate"].startswith("Api-Key"), who
        assert snapshot() == before, f"{who} changed something"

    # then: a key with just this scope is served
    answer = call(live_server, route, world, authorization=key_with(route.scope))
    assert answer.status_code < 300, answer.text
    # and so is the owner, where an end user may call the route at all
    if route.owner:
        answer = call(live_server, route, world, authorization=f"Bearer {user_token_mint(user_id=ALICE)}")
        assert answer.status_code < 300, answer.text
