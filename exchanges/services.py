from collections import Counter
from collections.abc import Iterable

from django.db.models import F

from checkout.participant import Outcome, StepFailed, apply_once, compensate_once

from .models import Currency, Exchange, ExchangeLine


def currency_upsert(*, currency_id: int, code: str, rate: int, stock: int) -> Currency:
    """Create a currency, or set the rate of an existing one (its stock is left alone)."""
    currency, created = Currency.objects.get_or_create(
        pk=currency_id, defaults={"code": code, "rate": rate, "stock": stock}
    )
    if not created and currency.rate != rate:
        Currency.objects.filter(pk=currency_id).update(rate=rate)
        currency.refresh_from_db()
    return currency


def exchange_apply(
    *, saga_id: int, order_id: int, holder_id: str, lines: Iterable[tuple[int, int]], cost: int
) -> Outcome:
    """Take every line's units out of stock in one local transaction, all or nothing."""
    units_by_currency = Counter()
    for currency_id, amount in lines:
        units_by_currency[currency_id] += amount

    def take(exchange: Exchange) -> None:
        # A fixed row order keeps two multi-currency exchanges from deadlocking.
        for currency_id, units in sorted(units_by_currency.items()):
            taken = Currency.objects.filter(pk=currency_id, stock__gte=units).update(stock=F("stock") - units)
            if not taken:
                raise StepFailed("OUT_OF_STOCK")
        ExchangeLine.objects.bulk_create(
            ExchangeLine(exchange=exchange, currency_id=currency_id, amount=units)
            for currency_id, units in sorted(units_by_currency.items())
        )

    return apply_once(Exchange, saga_id=saga_id, order_id=order_id, effect=take, holder_id=holder_id, cost=cost)


def exchange_compensate(*, saga_id: int, order_id: int) -> Outcome:
    """Give the units an applied exchange took back to stock, once."""

    def give_back(exchange: Exchange) -> None:
        for line in exchange.lines.order_by("currency_id"):
            Currency.objects.filter(pk=line.currency_id).update(stock=F("stock") + line.amount)

    return compensate_once(Exchange, saga_id=saga_id, order_id=order_id, undo=give_back)
