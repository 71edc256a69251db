from collections import Counter
from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import F

from checkout.participant import Outcome, StepFailed, apply_once, compensate_once
from config.errors import Refused
from config.sql import ids_explicit_lock, ids_restart_after_largest, sql_all, sql_run, table

from .models import Currency, Exchange, ExchangeLine, StockEntry, StockKind


def _restart_ids_after_explicit_ones() -> None:
    """Currencies created with explicit ids: new ones get ids after the largest."""
    ids_restart_after_largest(Currency)


def currency_create(*, rate: int, stock: int = 0, code: str = "", currency_id: int | None = None) -> Currency:
    """Create a currency (an item), with its id or the next one; its starting stock goes in the ledger."""
    with transaction.atomic():
        if currency_id is not None:
            ids_explicit_lock(Currency)
        currency = Currency.objects.create(pk=currency_id, code=code, rate=rate, stock=stock)
        if stock:
            StockEntry.objects.create(currency=currency, kind=StockKind.SET, amount=stock)
        if currency_id is not None:
            _restart_ids_after_explicit_ones()
        return currency


def currency_upsert(*, currency_id: int, code: str, rate: int, stock: int) -> Currency:
    """Create a currency with its id, or set the rate of an existing one (its stock is left alone)."""
    with transaction.atomic():
        currency = Currency.objects.select_for_update().filter(pk=currency_id).first()
        if currency is None:
            return currency_create(currency_id=currency_id, code=code, rate=rate, stock=stock)
        if currency.rate != rate:
            currency_update(currency_id=currency_id, code=currency.code, rate=rate)
            currency.refresh_from_db()
        return currency


def currency_update(*, currency_id: int, code: str, rate: int) -> None:
    """Rename or reprice a currency; its stock changes only through the ledgered services."""
    Currency.objects.filter(pk=currency_id).update(code=code, rate=rate)


def item_create(*, price: int) -> Currency:
    """An item of the checkout dialect: a currency with a new id, its rate the price, no stock."""
    return currency_create(rate=price)


def stock_add(*, currency_id: int, amount: int) -> Currency:
    with transaction.atomic():
        if not Currency.objects.filter(pk=currency_id).update(stock=F("stock") + amount):
            raise Currency.DoesNotExist(f"item {currency_id} does not exist")
        StockEntry.objects.create(currency_id=currency_id, kind=StockKind.ADD, amount=amount)
        return Currency.objects.get(pk=currency_id)


def stock_subtract(*, currency_id: int, amount: int) -> Currency:
    """Take units outside any saga; refused if the stock would go negative."""
    with transaction.atomic():
        taken = Currency.objects.filter(pk=currency_id, stock__gte=amount).update(stock=F("stock") - amount)
        currency = Currency.objects.get(pk=currency_id)  # an unknown item raises DoesNotExist
        if not taken:
            raise Refused("OUT_OF_STOCK", f"item {currency_id} has {currency.stock} in stock, not {amount}")
        StockEntry.objects.create(currency_id=currency_id, kind=StockKind.SUBTRACT, amount=-amount)
        return currency


def stock_batch_init(*, n: int, stock: int, price: int) -> None:
    """Create or overwrite items 0..n-1 with `stock` units at `price`; the stock ledger records each change."""
    currencies, entries = Currency._meta.db_table, StockEntry._meta.db_table
    with transaction.atomic():
        ids_explicit_lock(Currency)
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                WITH before AS (SELECT id, stock FROM {currencies} WHERE id BETWEEN 0 AND %(n)s - 1),
                upserted AS (
                    INSERT INTO {currencies} (id, code, rate, stock)
                    SELECT g, '', %(price)s, %(stock)s FROM generate_series(0, %(n)s - 1) AS g
                    ON CONFLICT (id) DO UPDATE SET rate = EXCLUDED.rate, stock = EXCLUDED.stock
                    RETURNING id
                )
                INSERT INTO {entries} (currency_id, kind, amount, created_at)
                SELECT upserted.id, %(kind)s, %(stock)s - COALESCE(before.stock, 0), now()
                FROM upserted LEFT JOIN before USING (id)
                WHERE %(stock)s - COALESCE(before.stock, 0) <> 0
                """,
                {"n": n, "stock": stock, "price": price, "kind": StockKind.SET},
            )
        _restart_ids_after_explicit_ones()


def exchange_apply(
    *, saga_id: int, order_id: int, holder_id: str, lines: Iterable[tuple[int, int]], cost: int
) -> Outcome:
    """Take every line's units out of stock in one local transaction, all or nothing."""
    units_by_currency = Counter()
    for currency_id, amount in lines:
        units_by_currency[currency_id] += amount

    def take(exchange: Exchange) -> None:  # fills in no field of the record
        taking = sorted(units_by_currency.items())
        if not taking:
            return  # an order without items (a /wdm order checked out empty) takes nothing; `IN ()` is no SQL
        # Lock every currency first, in a fixed order (two exchanges never deadlock), and check
        # them all: a refusal has written nothing. The locks hold until commit.
        stock = dict(
            sql_all(
                f"SELECT id, stock FROM {table(Currency)} WHERE id IN ({', '.join(['%s'] * len(taking))})"
                " ORDER BY id FOR UPDATE",
                [currency_id for currency_id, _ in taking],
            )
        )
        for currency_id, units in taking:
            if currency_id not in stock:
                raise StepFailed("UNKNOWN_ITEM")
            if stock[currency_id] < units:
                raise StepFailed("OUT_OF_STOCK")
        values = ", ".join(["(%s, %s)"] * len(taking))
        sql_run(
            f"WITH taken AS (UPDATE {table(Currency)} c SET stock = c.stock - v.units FROM (VALUES {values})"
            f" AS v (id, units) WHERE c.id = v.id)"
            f" INSERT INTO {table(ExchangeLine)} (exchange_id, currency_id, amount)"
            f" SELECT %s, v.id, v.units FROM (VALUES {values}) AS v (id, units)",
            [*(value for line in taking for value in line), exchange.pk, *(value for line in taking for value in line)],
        )

    return apply_once(
        Exchange,
        saga_id=saga_id,
        order_id=order_id,
        effect=take,
        refuses_before_writing=True,
        holder_id=holder_id,
        cost=cost,
    )


def exchange_compensate(*, saga_id: int, order_id: int) -> Outcome:
    """Give the units an applied exchange took back to stock, once."""

    def give_back(exchange: Exchange) -> None:
        for line in exchange.lines.order_by("currency_id"):
            Currency.objects.filter(pk=line.currency_id).update(stock=F("stock") + line.amount)

    return compensate_once(Exchange, saga_id=saga_id, order_id=order_id, undo=give_back)
