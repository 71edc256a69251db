from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import ValidationError

from exchanges.models import Currency
from points.services import MAX_BALANCE

from .models import Order, OrderLine, OrderStatus

MAX_LINE_AMOUNT = 10**9
MAX_LINES = 100


def order_create(*, holder_id: str, lines: Iterable[tuple[int, int]]) -> Order:
    """Create an order whose lines carry the currencies' current rates as their prices."""
    lines = list(lines)
    if not lines:
        raise ValidationError({"lines": "An order needs at least one line."})
    if len(lines) > MAX_LINES:
        raise ValidationError({"lines": f"An order has at most {MAX_LINES} lines."})
    rates = dict(Currency.objects.filter(pk__in={c for c, _ in lines}).values_list("pk", "rate"))
    unknown = sorted({c for c, _ in lines} - rates.keys())
    if unknown:
        raise ValidationError({"currencyId": f"Unknown currency: {', '.join(map(str, unknown))}."})
    total_cost = sum(amount * rates[currency_id] for currency_id, amount in lines)
    if total_cost > MAX_BALANCE:
        raise ValidationError(
            {"amount": f"The order would cost {total_cost} points; an order may cost at most 10**15."}
        )
    order = Order.objects.create(holder_id=holder_id, total_cost=total_cost)
    OrderLine.objects.bulk_create(
        OrderLine(order=order, currency_id=currency_id, amount=amount, unit_price=rates[currency_id])
        for currency_id, amount in lines
    )
    return order


def order_begin_attempt(*, order_id: int, deadline_at: datetime) -> None:
    Order.objects.filter(pk=order_id).update(status=OrderStatus.PENDING, rejection_reason="", deadline_at=deadline_at)


def order_set_outcome(*, order_id: int, status: OrderStatus, reason: str = "") -> None:
    """Mirror a saga attempt's decision on its order (called inside the transition's transaction)."""
    Order.objects.filter(pk=order_id).update(status=status, rejection_reason=reason)
