"""The checkout dialect (seed 004's order / stock / payment API), under /wdm.

Ids are strings, values are path segments, answers are JSON with integer numbers:
2xx on success, 4xx when a business rule or the input says no. Items are currencies
(price = rate), users are point accounts, orders are orders; a checkout is a saga
attempt, and its answer waits until the attempt is settled (ADR 0004).
"""

import re

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from callers.models import Scope
from callers.permissions import account_check
from config.api import ID_PATTERN, RETRY_AFTER, overloaded_response
from config.api import exception_handler as api_exception_handler
from config.errors import Overloaded
from exchanges import services as stock
from exchanges.models import Currency
from orders.models import Order, OrderStatus
from orders.services import MAX_LINE_AMOUNT, order_add_item, orders_batch_init
from points import services as payment
from points.models import PointAccount

from .idempotency import idempotent
from .models import SagaStatus
from .notify import NotSettled
from .services import checkout_order, order_start_empty

MAX_AMOUNT = 10**12
MAX_BATCH = 1_000_000
KEY_PATTERN = r"^[0-9]{1,18}$"  # an order's or an item's id
REASONS = {
    "OUT_OF_STOCK": "an item is out of stock",
    "POINT_LIMIT": "insufficient credit",
    "UNKNOWN_ACCOUNT": "unknown user",
    "UNKNOWN_ITEM": "unknown item",
    "DEADLINE": "the checkout did not finish before its deadline",
    "OPERATOR": "rejected by an operator",
}


class UserOut(serializers.Serializer):
    user_id = serializers.CharField()
    credit = serializers.IntegerField()


class NewUserOut(serializers.Serializer):
    user_id = serializers.CharField()


class DoneOut(serializers.Serializer):
    msg = serializers.CharField()


class NewItemOut(serializers.Serializer):
    item_id = serializers.CharField()


class ItemOut(serializers.Serializer):
    stock = serializers.IntegerField()
    price = serializers.IntegerField()


class ItemStockOut(ItemOut):
    item_id = serializers.CharField()


class NewOrderOut(serializers.Serializer):
    order_id = serializers.CharField()


@extend_schema_field(
    {
        "type": "array",
        "items": {
            "type": "array",
            "minItems": 2,
            "maxItems": 2,
            "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
            "description": "[item_id (a string), quantity (an integer)]",
        },
    }
)
class ItemLinesField(serializers.ListField):
    """`[[item_id, quantity], ...]`: seed 004's pairs of a string and an integer."""


class WdmOrderOut(serializers.Serializer):
    order_id = serializers.CharField()
    paid = serializers.BooleanField()
    items = ItemLinesField(help_text="[[item_id, quantity], ...]")
    user_id = serializers.CharField()
    total_cost = serializers.IntegerField()


class AddItemOut(serializers.Serializer):
    order_id = serializers.CharField()
    total_cost = serializers.IntegerField()


class CheckoutOut(serializers.Serializer):
    order_id = serializers.CharField()
    paid = serializers.BooleanField()
    attempt = serializers.IntegerField()


class RefusedOut(serializers.Serializer):
    """Every error of the /wdm dialect (but a 413, answered before any view: `{"detail"}`)."""

    error = serializers.CharField(
        help_text="A business rule's (OUT_OF_STOCK, POINT_LIMIT, ORDER_PAID, CHECKOUT_IN_PROGRESS, ...; a checkout's "
        "UNKNOWN_ACCOUNT, UNKNOWN_ITEM, DEADLINE, OPERATOR), or NOT_FOUND, INVALID, NOT_AUTHENTICATED, "
        "AUTHENTICATION_FAILED, PERMISSION_DENIED, METHOD_NOT_ALLOWED, THROTTLED, IDEMPOTENCY_KEY_TOO_LONG, "
        "IDEMPOTENCY_KEY_REUSED, UNAVAILABLE (the database does not answer)"
    )
    detail = serializers.CharField()


class CheckoutRefusedOut(CheckoutOut, RefusedOut):
    pass


class CheckoutUnavailableOut(RefusedOut):
    """503: OVERLOADED (nothing started; see Retry-After), NOT_SETTLED (the attempt outlived its deadline), or
    UNAVAILABLE (the database does not answer; without order_id)."""

    order_id = serializers.CharField(required=False)


def _number_in(name: str, *, maximum: int, minimum: int = 0) -> OpenApiParameter:
    """A path segment that `_number` reads: a whole number in [minimum, maximum]."""
    schema = {"type": "integer", "minimum": minimum, "maximum": maximum}
    return OpenApiParameter(name, schema, OpenApiParameter.PATH, description="A whole number (digits).")


def _key_in(name: str) -> OpenApiParameter:
    """A path segment that `_key` reads: an order's or an item's id, digits."""
    return OpenApiParameter(name, {"type": "string", "pattern": KEY_PATTERN}, OpenApiParameter.PATH)


def _user_in(name: str = "user_id") -> OpenApiParameter:
    """A path segment that `_user` reads: an account id."""
    return OpenApiParameter(name, {"type": "string", "pattern": ID_PATTERN}, OpenApiParameter.PATH)


def _documented(ok, *parameters: OpenApiParameter, refusals: tuple[int, ...] = (), extra: dict | None = None):
    """Every /wdm route: no body, its path segments' types, its answer and the refusals its own rules give.

    What every route may answer besides (401, 403, 404 for an unknown id, 429, 503 ...) config/schema.py adds.
    """
    responses = {200: ok, **{status: RefusedOut for status in refusals}, **(extra or {})}
    return extend_schema(request=None, parameters=list(parameters), responses=responses)


def _number(value: str, name: str, *, maximum: int, minimum: int = 0) -> int:
    """A path segment that must be a whole number in [minimum, maximum]: else a 400 that names it."""
    if not re.fullmatch(r"[0-9]{1,30}", value) or not minimum <= int(value) <= maximum:
        raise ValidationError({name: f"must be a whole number from {minimum} to {maximum}, not {value!r}"})
    return int(value)


def _key(value: str, what: str) -> int:
    """An order or item id: digits, or the thing does not exist (404)."""
    if not re.fullmatch(KEY_PATTERN, value):
        raise NotFound(f"{what} {value!r} not found")
    return int(value)


def _user(value: str) -> str:
    if not re.fullmatch(ID_PATTERN, value):
        raise NotFound(f"user {value!r} not found")
    return value


def _users_order(request, order_id: int, *, private: bool = False) -> int:
    """An end user acts on their own orders only (ADR 0012); a service key or an operator on any."""
    if request.user.account is not None:
        holder = Order.objects.filter(pk=order_id).values_list("holder_id", flat=True).first()
        if holder is None:
            raise NotFound(f"order {order_id} not found")
        account_check(request, holder, private=private)
    return order_id


def wdm_exception_handler(exc, context):
    """The API's exception handling, every error then in this dialect's shape: `{"error", "detail"}`.

    DRF answers `{"detail"}`, or `{field: [messages]}` for a validation error; here `error` is the
    exception's code (NOT_FOUND, INVALID, NOT_AUTHENTICATED, THROTTLED, ...) and `detail` one line.
    Headers (WWW-Authenticate, Retry-After) are DRF's.
    """
    response = api_exception_handler(exc, context)
    if response is None or "error" in response.data:
        return response
    code = "UNAVAILABLE" if response.status_code == 503 else getattr(exc, "default_code", "error").upper()
    response.data = {"error": code, "detail": _one_line(response.data)}
    return response


def _one_line(data) -> str:
    if isinstance(data, dict):
        if set(data) == {"detail"}:
            return _one_line(data["detail"])
        return "; ".join(f"{field}: {_one_line(messages)}" for field, messages in data.items())
    if isinstance(data, list):
        return " ".join(_one_line(message) for message in data)
    return str(data)


class WdmView(APIView):
    renderer_classes = [JSONRenderer]
    parser_classes = []

    def handle_exception(self, exc):
        if isinstance(exc, ObjectDoesNotExist):
            exc = NotFound(str(exc) or "not found")
        return super().handle_exception(exc)

    def get_exception_handler(self):
        return wdm_exception_handler


# --- payment ---------------------------------------------------------------------------------


def _credit(account: PointAccount) -> Response:
    return Response({"user_id": account.user_id, "credit": account.balance})


class BatchInit(WdmView):
    """Seed 004's bulk overwrite of ids "0".."n-1": off (404) unless SAGA_BATCH_INIT is on."""

    scopes = {"POST": Scope.BATCH_INIT}

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not settings.SAGA_BATCH_INIT:
            raise NotFound("batch_init is off: start the stack with SAGA_BATCH_INIT=1 (benchmarks only).")


class CreateUser(WdmView):
    scopes = {"POST": Scope.POINTS_MINT}

    @_documented(NewUserOut)
    @idempotent
    def post(self, request):
        return Response({"user_id": payment.points_account_create().user_id})


class BatchInitUsers(BatchInit):
    @_documented(DoneOut, _number_in("n", maximum=MAX_BATCH), _number_in("money", maximum=MAX_AMOUNT), refusals=(400,))
    def post(self, request, n: str, money: str):
        payment.points_batch_init(
            n=_number(n, "n", maximum=MAX_BATCH), money=_number(money, "money", maximum=MAX_AMOUNT)
        )
        return Response({"msg": "Batch init for users successful"})


class FindUser(WdmView):
    scopes = {"GET": Scope.READ}

    @_documented(UserOut, _user_in())
    def get(self, request, user_id: str):
        account_check(request, user_id, private=True)
        return _credit(PointAccount.objects.get(pk=_user(user_id)))


class AddFunds(WdmView):
    scopes = {"POST": Scope.POINTS_MINT}

    @_documented(UserOut, _user_in(), _number_in("amount", maximum=MAX_AMOUNT), refusals=(400,))
    @idempotent
    def post(self, request, user_id: str, amount: str):
        account = payment.points_deposit(
            user_id=_user(user_id), amount=_number(amount, "amount", maximum=MAX_AMOUNT), open_account=False
        )
        return _credit(account)


class Pay(WdmView):
    scopes = {"POST": Scope.POINTS_MOVE}

    @_documented(UserOut, _user_in(), _number_in("amount", maximum=MAX_AMOUNT), refusals=(400,))
    @idempotent
    def post(self, request, user_id: str, amount: str):
        account_check(request, user_id)
        return _credit(payment.points_pay(user_id=_user(user_id), amount=_number(amount, "amount", maximum=MAX_AMOUNT)))


# --- stock -----------------------------------------------------------------------------------


def _stock(item: Currency) -> Response:
    return Response({"item_id": str(item.pk), "stock": item.stock, "price": item.rate})


class CreateItem(WdmView):
    scopes = {"POST": Scope.STOCK_WRITE}

    @_documented(NewItemOut, _number_in("price", maximum=MAX_AMOUNT), refusals=(400,))
    @idempotent
    def post(self, request, price: str):
        item = stock.item_create(price=_number(price, "price", maximum=MAX_AMOUNT))
        return Response({"item_id": str(item.pk)})


class BatchInitItems(BatchInit):
    @_documented(
        DoneOut,
        _number_in("n", maximum=MAX_BATCH),
        _number_in("starting_stock", maximum=MAX_AMOUNT),
        _number_in("price", maximum=MAX_AMOUNT),
        refusals=(400,),
    )
    def post(self, request, n: str, starting_stock: str, price: str):
        stock.stock_batch_init(
            n=_number(n, "n", maximum=MAX_BATCH),
            stock=_number(starting_stock, "stock", maximum=MAX_AMOUNT),
            price=_number(price, "price", maximum=MAX_AMOUNT),
        )
        return Response({"msg": "Batch init for stock successful"})


class FindItem(WdmView):
    scopes = {"GET": Scope.READ}

    @_documented(ItemOut, _key_in("item_id"))
    def get(self, request, item_id: str):
        item = Currency.objects.get(pk=_key(item_id, "item"))
        return Response({"stock": item.stock, "price": item.rate})


class AddStock(WdmView):
    scopes = {"POST": Scope.STOCK_WRITE}

    @_documented(ItemStockOut, _key_in("item_id"), _number_in("amount", maximum=MAX_AMOUNT), refusals=(400,))
    @idempotent
    def post(self, request, item_id: str, amount: str):
        return _stock(
            stock.stock_add(currency_id=_key(item_id, "item"), amount=_number(amount, "amount", maximum=MAX_AMOUNT))
        )


class SubtractStock(WdmView):
    scopes = {"POST": Scope.STOCK_WRITE}

    @_documented(ItemStockOut, _key_in("item_id"), _number_in("amount", maximum=MAX_AMOUNT), refusals=(400,))
    @idempotent
    def post(self, request, item_id: str, amount: str):
        return _stock(
            stock.stock_subtract(
                currency_id=_key(item_id, "item"), amount=_number(amount, "amount", maximum=MAX_AMOUNT)
            )
        )


# --- orders ----------------------------------------------------------------------------------


class CreateOrder(WdmView):
    scopes = {"POST": Scope.ORDERS_PLACE}

    @_documented(NewOrderOut, _user_in())
    @idempotent
    def post(self, request, user_id: str):
        account_check(request, user_id)
        return Response({"order_id": str(order_start_empty(holder_id=_user(user_id)).pk)})


class BatchInitOrders(BatchInit):
    @_documented(
        DoneOut,
        _number_in("n", maximum=MAX_BATCH),
        _number_in("n_items", minimum=1, maximum=MAX_BATCH),
        _number_in("n_users", minimum=1, maximum=MAX_BATCH),
        _number_in("item_price", maximum=MAX_LINE_AMOUNT),
        refusals=(400,),
    )
    def post(self, request, n: str, n_items: str, n_users: str, item_price: str):
        orders_batch_init(
            n=_number(n, "n", maximum=MAX_BATCH),
            n_items=_number(n_items, "n_items", minimum=1, maximum=MAX_BATCH),
            n_users=_number(n_users, "n_users", minimum=1, maximum=MAX_BATCH),
            item_price=_number(item_price, "item_price", maximum=MAX_LINE_AMOUNT),
        )
        return Response({"msg": "Batch init for orders successful"})


class FindOrder(WdmView):
    scopes = {"GET": Scope.READ}

    @_documented(WdmOrderOut, _key_in("order_id"))
    def get(self, request, order_id: str):
        order = Order.objects.get(pk=_users_order(request, _key(order_id, "order"), private=True))
        return Response(
            {
                "order_id": str(order.pk),
                "paid": order.status == OrderStatus.APPROVED,
                "items": [
                    [str(c), amount] for c, amount in order.lines.order_by("id").values_list("currency_id", "amount")
                ],
                "user_id": order.holder_id,
                "total_cost": order.total_cost,
            }
        )


class AddItem(WdmView):
    scopes = {"POST": Scope.ORDERS_PLACE}

    @_documented(
        AddItemOut,
        _key_in("order_id"),
        _key_in("item_id"),
        _number_in("quantity", minimum=1, maximum=MAX_LINE_AMOUNT),
        refusals=(400, 409),
    )
    @idempotent
    def post(self, request, order_id: str, item_id: str, quantity: str):
        order = order_add_item(
            order_id=_users_order(request, _key(order_id, "order")),
            currency_id=_key(item_id, "item"),
            quantity=_number(quantity, "quantity", minimum=1, maximum=MAX_LINE_AMOUNT),
        )
        return Response({"order_id": str(order.pk), "total_cost": order.total_cost})


class Checkout(WdmView):
    """Answers when the attempt is settled: 200 if paid; 400 with the reason once every compensation ran.

    A checkout that would start a new attempt while the system is at capacity is refused at once:
    503 OVERLOADED with Retry-After, nothing started or charged (ADR 0010).
    """

    scopes = {"POST": Scope.ORDERS_PLACE}

    @extend_schema(parameters=[RETRY_AFTER])
    @_documented(CheckoutOut, _key_in("order_id"), extra={400: CheckoutRefusedOut, 503: CheckoutUnavailableOut})
    def post(self, request, order_id: str):
        try:
            saga = checkout_order(order_id=_users_order(request, _key(order_id, "order")))
        except Overloaded as overloaded:
            return overloaded_response(overloaded, order_id=order_id)
        except NotSettled as stuck:
            return Response({"order_id": order_id, "error": "NOT_SETTLED", "detail": str(stuck)}, status=503)
        body = {"order_id": order_id, "paid": saga.status == SagaStatus.APPROVED, "attempt": saga.attempt}
        if saga.status == SagaStatus.APPROVED:
            return Response(body)
        return Response({**body, "error": saga.reason, "detail": REASONS.get(saga.reason, saga.reason)}, status=400)
