"""What Swagger UI and ReDoc show of each operation (issue 12): a summary, and examples from seed 000's own values.

One table, in the order a newcomer would try the operations: deposit, place an order, read what it did, then
/wdm's users, items and orders. Each example only needs what the ones above it created (or README's walkthrough),
and the schema lists the operations in this order (SORT_OPERATIONS), so Swagger's "Try it out", from the top of
the page down, succeeds in a local `make run` (no credentials; `load_demo`'s currencies 1 USD, 2 EUR, 3 GBP at
rates 1, 2, 3). Order ids are those of a fresh database: `POST /orders` makes order 1, `POST
/wdm/orders/create/jjy` order 2 (on another database, use the id that answer gave).
`config/schema.py` puts these into the schema; `config/tests/test_examples.py` sends every example to a live
server in this order and expects a 2xx.
"""

from dataclasses import dataclass, field

from drf_spectacular.plumbing import alpha_operation_sorter


@dataclass(frozen=True)
class Doc:
    summary: str
    description: str = ""  # only where the view's docstring says nothing
    request: dict | None = None  # a JSON body
    response: object = None  # the 2xx answer's body
    path: dict = field(default_factory=dict)  # path segment -> example value
    query: dict = field(default_factory=dict)  # query parameter -> example value


AT = "2026-01-05T09:00:00.120000Z"
DEADLINE = "2026-01-05T09:00:10.120000Z"
DONE = "2026-01-05T09:00:00.480000Z"

ORDER_1 = {
    "id": 1,
    "holderId": "jjy",
    "currencyId": 1,
    "amount": 500,
    "lines": [{"currencyId": 1, "amount": 500, "unitPrice": 1}],
    "totalCost": 500,
    "status": "APPROVED",
    "rejectionReason": None,
    "statusText": "APPROVED",
    "deadline": DEADLINE,
    "createdAt": AT,
}
EVENTS_1 = [
    {"eventType": "OrderCreated", "timestamp": 1767603600120, "orderId": 1, "sagaId": 1, "service": "orders"},
    {"eventType": "ExchangeSucceed", "timestamp": 1767603600250, "orderId": 1, "sagaId": 1, "service": "exchanges"},
    {"eventType": "PointUsed", "timestamp": 1767603600390, "orderId": 1, "sagaId": 1, "service": "points"},
    {"eventType": "OrderPlaced", "timestamp": 1767603600480, "orderId": 1, "sagaId": 1, "service": "orders"},
]
WDM_ORDER = "2"  # what POST /wdm/orders/create/jjy answers on a fresh database, after POST /orders made order 1

OPERATIONS: dict[tuple[str, str], Doc] = {
    # --- seed dialect, seed 000's walkthrough --------------------------------------------------
    ("POST", "/points"): Doc(
        "Deposit points",
        request={"userId": "jjy", "point": 1000},
        response={"userId": "jjy", "point": 1000},
    ),
    ("GET", "/points"): Doc("List point accounts", response={"userId": "jjy", "point": 1000}),
    ("GET", "/points/{user_id}"): Doc(
        "Get an account's balance", path={"user_id": "jjy"}, response={"userId": "jjy", "point": 1000}
    ),
    ("GET", "/currencies"): Doc("List currencies", response={"id": 1, "code": "USD", "rate": 1, "stock": 1_000_000}),
    ("POST", "/orders"): Doc(
        "Place an order",
        request={"holderId": "jjy", "currencyId": 1, "amount": 500},
        response={
            **ORDER_1,
            "status": "PENDING",
            "statusText": "PENDING",
            "deadline": DEADLINE,
        },
    ),
    ("GET", "/orders"): Doc("List orders", query={"holderId": "jjy"}, response=ORDER_1),
    ("GET", "/orders/{id}"): Doc("Get an order", path={"id": 1}, response=ORDER_1),
    ("GET", "/orders/{id}/events"): Doc("List an order's events", path={"id": 1}, response=EVENTS_1),
    ("GET", "/events"): Doc("List saga events", query={"orderId": 1}, response=EVENTS_1),
    ("GET", "/events/stream"): Doc("Follow saga events (server-sent events)", query={"orderId": 1, "seconds": 5}),
    ("GET", "/deadlines"): Doc(
        "List saga deadlines",
        response={
            "sagaId": 1,
            "orderId": 1,
            "attempt": 1,
            "deadline": DEADLINE,
            "status": "APPROVED",
            "reason": "",
            "decidedAt": DONE,
            "compensatedAt": None,
        },
    ),
    ("GET", "/transactions"): Doc(
        "List point uses",
        response={
            "id": 1,
            "orderId": 1,
            "sagaId": 1,
            "userId": "jjy",
            "point": 500,
            "balanceAfter": 500,
            "status": "APPLIED",
            "reason": "",
            "createdAt": AT,
            "compensatedAt": None,
        },
    ),
    ("GET", "/exchanges"): Doc(
        "List exchanges",
        response={
            "id": 1,
            "orderId": 1,
            "sagaId": 1,
            "userId": "jjy",
            "point": 500,
            "lines": [{"currencyId": 1, "amount": 500}],
            "status": "APPLIED",
            "reason": "",
            "createdAt": AT,
            "compensatedAt": None,
        },
    ),
    ("GET", "/my-page/{user_id}"): Doc(
        "Get a user's page (balance, orders, exchanges)",
        path={"user_id": "jjy"},
        response={
            "userId": "jjy",
            "balance": 500,
            "orders": [
                {
                    "orderId": 1,
                    "status": "APPROVED",
                    "reason": None,
                    "cost": 500,
                    "lines": [{"currencyId": 1, "amount": 500}],
                    "attempt": 1,
                }
            ],
            "exchanges": [
                {
                    "orderId": 1,
                    "sagaId": 1,
                    "status": "APPLIED",
                    "point": 500,
                    "lines": [{"currencyId": 1, "amount": 500}],
                }
            ],
        },
    ),
    ("POST", "/auth/tokens"): Doc(
        "Mint an end user's token",
        request={"userId": "jjy"},
        response={"userId": "jjy", "token": "u1.jjy.1767607200.3q2-7wE1", "expiresIn": 3600},
    ),
    # --- checkout dialect (/wdm): payment --------------------------------------------------------
    ("POST", "/wdm/payment/create_user"): Doc(
        "Create a user",
        "Opens a point account with credit 0 under a new id (a UUID).",
        response={"user_id": "0b6f4c4e-5d0a-4b8e-9a57-3f4a9c1d2e7b"},
    ),
    ("GET", "/wdm/payment/find_user/{user_id}"): Doc(
        "Get a user's credit",
        "A point account's balance.",
        path={"user_id": "jjy"},
        response={"user_id": "jjy", "credit": 500},
    ),
    ("POST", "/wdm/payment/add_funds/{user_id}/{amount}"): Doc(
        "Add funds",
        "Adds `amount` to the credit of an existing user (404 for an unknown one).",
        path={"user_id": "jjy", "amount": 1000},
        response={"user_id": "jjy", "credit": 1500},
    ),
    ("POST", "/wdm/payment/pay/{user_id}/{amount}"): Doc(
        "Pay",
        "Takes `amount` from the user's credit; 400 POINT_LIMIT, and nothing taken, if it would go negative.",
        path={"user_id": "jjy", "amount": 100},
        response={"user_id": "jjy", "credit": 1400},
    ),
    # --- stock ----------------------------------------------------------------------------------
    ("POST", "/wdm/stock/item/create/{price}"): Doc(
        "Create an item",
        "A new item (a currency) at `price` points per unit, with stock 0.",
        path={"price": 2},
        response={"item_id": "4"},
    ),
    ("GET", "/wdm/stock/find/{item_id}"): Doc(
        "Get an item's stock and price",
        "An item's stock and price (its currency's rate).",
        path={"item_id": "1"},
        response={"stock": 999_500, "price": 1},
    ),
    ("POST", "/wdm/stock/add/{item_id}/{amount}"): Doc(
        "Add stock",
        "Adds `amount` units to an item's stock.",
        path={"item_id": "1", "amount": 100},
        response={"item_id": "1", "stock": 999_600, "price": 1},
    ),
    ("POST", "/wdm/stock/subtract/{item_id}/{amount}"): Doc(
        "Subtract stock",
        "Takes `amount` units from an item's stock; 400 OUT_OF_STOCK, and nothing taken, below 0.",
        path={"item_id": "1", "amount": 1},
        response={"item_id": "1", "stock": 999_599, "price": 1},
    ),
    # --- orders ---------------------------------------------------------------------------------
    ("POST", "/wdm/orders/create/{user_id}"): Doc(
        "Create an empty order",
        "An order of `user_id` with no items yet: add them with addItem, then check it out.",
        path={"user_id": "jjy"},
        response={"order_id": WDM_ORDER},
    ),
    ("POST", "/wdm/orders/addItem/{order_id}/{item_id}/{quantity}"): Doc(
        "Add an item to an order",
        "Adds `quantity` units of an item to an order: 409 while a checkout of it runs, 400 once it is paid.",
        path={"order_id": WDM_ORDER, "item_id": "1", "quantity": 2},
        response={"order_id": WDM_ORDER, "total_cost": 2},
    ),
    ("GET", "/wdm/orders/find/{order_id}"): Doc(
        "Get an order",
        "An order's items, cost, user and whether it is paid.",
        path={"order_id": WDM_ORDER},
        response={"order_id": WDM_ORDER, "paid": False, "items": [["1", 2]], "user_id": "jjy", "total_cost": 2},
    ),
    ("POST", "/wdm/orders/checkout/{order_id}"): Doc(
        "Check out an order (waits for the outcome)",
        path={"order_id": WDM_ORDER},
        response={"order_id": WDM_ORDER, "paid": True, "attempt": 1},
    ),
    # --- benchmarks only: 404 unless SAGA_BATCH_INIT=1; they overwrite ids 0..n-1 -------------------
    ("POST", "/wdm/payment/batch_init/{n}/{money}"): Doc(
        "Create or overwrite users 0..n-1 (benchmarks)",
        path={"n": 5, "money": 1000},
        response={"msg": "Batch init for users successful"},
    ),
    ("POST", "/wdm/stock/batch_init/{n}/{starting_stock}/{price}"): Doc(
        "Create or overwrite items 0..n-1 (benchmarks)",
        path={"n": 5, "starting_stock": 100, "price": 1},
        response={"msg": "Batch init for stock successful"},
    ),
    ("POST", "/wdm/orders/batch_init/{n}/{n_items}/{n_users}/{item_price}"): Doc(
        "Create or overwrite orders 0..n-1 (benchmarks)",
        path={"n": 5, "n_items": 5, "n_users": 5, "item_price": 1},
        response={"msg": "Batch init for orders successful"},
    ),
}


ORDER = {operation: index for index, operation in enumerate(OPERATIONS)}


def operation_order(endpoint) -> tuple:
    """SORT_OPERATIONS: the schema, so Swagger UI and ReDoc, lists operations in this table's order, not by path."""
    path, _, method, _ = endpoint
    operation = (method, path.replace("{pk}", "{id}"))  # drf-spectacular names `pk` `id` after sorting
    return ORDER.get(operation, len(ORDER)), alpha_operation_sorter(endpoint)
