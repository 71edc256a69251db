from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F

from config.errors import Conflict, Refused
from config.sql import Write, ids_explicit_lock, ids_restart_after_largest, table
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


def order_open(*, holder_id: str) -> Order:
    """An empty order of the checkout dialect: items are added one by one, then it is checked out."""
    return Order.objects.create(holder_id=holder_id, status=OrderStatus.OPEN)


def order_add_item(*, order_id: int, currency_id: int, quantity: int) -> Order:
    """Add a line at the item's current price; refused once the order is paid or while it is checked out."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)  # an unknown order raises DoesNotExist
        if order.status == OrderStatus.APPROVED:
            raise Refused("ORDER_PAID", f"order {order_id} is paid; it can no longer change")
        if order.status == OrderStatus.PENDING:
            raise Conflict("CHECKOUT_IN_PROGRESS", f"order {order_id} is being checked out; try again after")
        price = Currency.objects.values_list("rate", flat=True).get(pk=currency_id)  # or DoesNotExist
        if order.lines.count() >= MAX_LINES:
            raise Refused("TOO_MANY_LINES", f"an order has at most {MAX_LINES} lines")
        cost = quantity * price
        if order.total_cost + cost > MAX_BALANCE:
            raise Refused("ORDER_TOO_LARGE", f"an order may cost at most {MAX_BALANCE} points")
        OrderLine.objects.create(order=order, currency_id=currency_id, amount=quantity, unit_price=price)
        Order.objects.filter(pk=order_id).update(total_cost=F("total_cost") + cost)
        order.refresh_from_db()
        return order


def orders_batch_init(*, n: int, n_items: int, n_users: int, item_price: int, first_id: int = 0) -> None:
    """Create or overwrite orders first_id..first_id+n-1: each 2 random items (of 0..n_items-1) x1, a random user.

    An overwritten order starts afresh (OPEN, new lines, its next generation); its earlier attempts stay as
    history and no longer count for it (ADR 0004).
    """
    orders, lines = Order._meta.db_table, OrderLine._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        ids_explicit_lock(Order)
        ids = {"first": first_id, "last": first_id + n - 1}
        cursor.execute(f"DELETE FROM {lines} WHERE order_id BETWEEN %(first)s AND %(last)s", ids)
        cursor.execute(
            f"""
            INSERT INTO {orders}
                (id, holder_id, status, rejection_reason, total_cost, generation, created_at, updated_at)
            SELECT g, floor(random() * %(n_users)s)::bigint::text, %(open)s, '', 2 * %(price)s, 0, now(), now()
            FROM generate_series(%(first)s, %(last)s) AS g
            ON CONFLICT (id) DO UPDATE SET holder_id = EXCLUDED.holder_id, status = EXCLUDED.status,
                rejection_reason = '', total_cost = EXCLUDED.total_cost, deadline_at = NULL, updated_at = now(),
                reset_at = now(), generation = {orders}.generation + 1
            """,
            {**ids, "n_users": n_users, "price": item_price, "open": OrderStatus.OPEN},
        )
        cursor.execute(
            f"""
            INSERT INTO {lines} (order_id, currency_id, amount, unit_price)
            SELECT g, floor(random() * %(n_items)s)::int, 1, %(price)s
            FROM generate_series(%(first)s, %(last)s) AS g CROSS JOIN generate_series(1, 2) AS item
            ORDER BY g, item
            """,
            {**ids, "n_items": n_items, "price": item_price},
        )
        ids_restart_after_largest(Order)


def order_begin_attempt(*, order_id: int, deadline_at: datetime) -> Write:
    """The order's side of a new attempt: PENDING until `deadline_at`.

    Returned, not run: the caller sends it along the statement that records the attempt's event
    (`event_record(along=...)`), in the same transaction (ADR 0008).
    """
    return (
        f"UPDATE {table(Order)} SET status = %s, rejection_reason = '', deadline_at = %s WHERE id = %s",
        [OrderStatus.PENDING, deadline_at, order_id],
    )


def order_set_outcome(*, order_id: int, generation: int, status: OrderStatus, reason: str = "") -> Write:
    """Mirror a saga attempt's decision on its order, returned for the transition's event to carry along.

    Only an attempt of the order's current generation does: one that started before a batch_init
    overwrote the order decides only itself (ADR 0004).
    """
    return (
        f"UPDATE {table(Order)} SET status = %s, rejection_reason = %s WHERE id = %s AND generation = %s",
        [status, reason, order_id, generation],
    )
