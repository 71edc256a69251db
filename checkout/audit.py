"""The invariants of SPEC, checked on the live database (`manage.py saga_audit`).

Every check is one set-based query, so the audit runs on the whole database of a
benchmark too. A violation names the order (when there is one) so that its events
can be printed next to it.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from checkout.participant import ParticipantStatus
from exchanges.models import Currency, ExchangeLine, StockEntry
from orders.models import Order
from points.models import EntryKind, PointAccount, PointEntry, PointUse

from .models import Saga, SagaEvent, SagaStatus
from .saga import STEPS

APPLIED = ParticipantStatus.APPLIED


@dataclass(frozen=True)
class Violation:
    invariant: str
    detail: str
    order_id: int | None = None


def _sum(queryset, field: str) -> Coalesce:
    return Coalesce(Subquery(queryset.values(field)), Value(0), output_field=IntegerField())


def negative_amounts() -> Iterator[Violation]:
    for user_id, balance in PointAccount.objects.filter(balance__lt=0).values_list("pk", "balance"):
        yield Violation("no negative balance", f"account {user_id} has {balance}")
    for currency_id, stock in Currency.objects.filter(stock__lt=0).values_list("pk", "stock"):
        yield Violation("no negative stock", f"currency {currency_id} has {stock}")


def points_conserved() -> Iterator[Violation]:
    """Every account's balance is the sum of its ledger; every debit and refund is in the ledger once."""
    entries = PointEntry.objects.filter(account=OuterRef("pk")).values("account").annotate(total=Sum("amount"))
    for user_id, balance, ledger in (
        PointAccount.objects.annotate(ledger=_sum(entries, "total"))
        .exclude(balance=F("ledger"))
        .values_list("pk", "balance", "ledger")
    ):
        yield Violation("points conserved", f"account {user_id}: balance {balance}, ledger says {ledger}")
    debit = PointEntry.objects.filter(saga_id=OuterRef("saga_id"), kind=EntryKind.USE, amount=-1 * OuterRef("amount"))
    refund = PointEntry.objects.filter(saga_id=OuterRef("saga_id"), kind=EntryKind.REFUND)
    uses = PointUse.objects.annotate(debited=Exists(debit), refunded=Exists(refund))
    wrong = (
        Q(status=ParticipantStatus.APPLIED, debited=False)
        | Q(status=ParticipantStatus.APPLIED, refunded=True)
        | Q(status=ParticipantStatus.COMPENSATED, debited=False)
        | Q(status=ParticipantStatus.COMPENSATED, refunded=False)
        | Q(status__in=[ParticipantStatus.FAILED, ParticipantStatus.CANCELLED], debited=True)
        | Q(status__in=[ParticipantStatus.FAILED, ParticipantStatus.CANCELLED], refunded=True)
    )
    for saga_id, order_id, status, debited, refunded in uses.filter(wrong).values_list(
        "saga_id", "order_id", "status", "debited", "refunded"
    ):
        yield Violation(
            "points conserved",
            f"attempt {saga_id}: point use {status} but ledger debit={debited} refund={refunded}",
            order_id,
        )


def stock_conserved() -> Iterator[Violation]:
    """Every currency's stock is what its ledger put in, minus what applied exchanges hold."""
    put_in = StockEntry.objects.filter(currency=OuterRef("pk")).values("currency").annotate(total=Sum("amount"))
    held = (
        ExchangeLine.objects.filter(currency=OuterRef("pk"), exchange__status=APPLIED)
        .values("currency")
        .annotate(total=Sum("amount"))
    )
    for currency_id, stock, ledger, taken in (
        Currency.objects.annotate(ledger=_sum(put_in, "total"), taken=_sum(held, "total"))
        .exclude(stock=F("ledger") - F("taken"))
        .values_list("pk", "stock", "ledger", "taken")
    ):
        yield Violation(
            "stock conserved",
            f"currency {currency_id}: stock {stock}, but {ledger} put in and {taken} held by applied exchanges",
        )


def one_outcome_per_attempt(*, settle: timedelta) -> Iterator[Violation]:
    """An approved attempt holds every step once; a settled rejection holds none; each decision is logged once."""
    applied = {step.service: step.record.objects.filter(saga_id=OuterRef("pk"), status=APPLIED) for step in STEPS}
    sagas = Saga.objects.annotate(
        **{f"{service}_applied": Exists(records) for service, records in applied.items()},
        placed=Count("events", filter=Q(events__event_type="OrderPlaced")),
        rejected=Count("events", filter=Q(events__event_type="OrderRejected")),
    )
    all_applied = Q(**{f"{service}_applied": True for service in applied})
    any_applied = Q()
    for service in applied:
        any_applied |= Q(**{f"{service}_applied": True})
    checks: list[tuple[Q, str]] = [
        (Q(status=SagaStatus.APPROVED) & ~all_applied, "approved, but not every step is applied"),
        (Q(status=SagaStatus.REJECTED, compensated_at__isnull=False) & any_applied, "compensated, but a step holds"),
        (Q(status=SagaStatus.APPROVED) & ~Q(placed=1), "approved, but not exactly one OrderPlaced"),
        (Q(status=SagaStatus.REJECTED) & ~Q(rejected=1), "rejected, but not exactly one OrderRejected"),
        (Q(status=SagaStatus.REJECTED, placed__gt=0), "rejected, yet an OrderPlaced was logged"),
        (Q(status=SagaStatus.APPROVED, rejected__gt=0), "approved, yet an OrderRejected was logged"),
    ]
    for condition, what in checks:
        for saga_id, order_id in sagas.filter(condition).values_list("pk", "order_id"):
            yield Violation("one terminal state per attempt", f"attempt {saga_id}: {what}", order_id)
    cost_differs = PointUse.objects.filter(status__in=[APPLIED, ParticipantStatus.COMPENSATED]).exclude(
        amount=Subquery(Saga.objects.filter(pk=OuterRef("saga_id")).values("cost"))
    )
    for saga_id, order_id in cost_differs.values_list("saga_id", "order_id"):
        yield Violation("one terminal state per attempt", f"attempt {saga_id}: charged other than its cost", order_id)
    # an order overwritten by batch_init starts afresh: the attempts of its earlier generations are history
    latest = Saga.objects.filter(order=OuterRef("pk"), generation=OuterRef("generation")).order_by("-attempt")
    mirror = Order.objects.annotate(latest=Subquery(latest.values("status")[:1])).exclude(latest=None)
    for order_id, status, latest_status in mirror.exclude(status=F("latest")).values_list("pk", "status", "latest"):
        yield Violation(
            "one terminal state per attempt", f"order is {status}, its latest attempt {latest_status}", order_id
        )
    cutoff = timezone.now() - settle
    overdue = Saga.objects.filter(status=SagaStatus.PENDING, deadline_at__lt=cutoff)
    for saga_id, order_id, deadline in overdue.values_list("pk", "order_id", "deadline_at"):
        yield Violation(
            "no PENDING past its deadline", f"attempt {saga_id} still PENDING, deadline {deadline}", order_id
        )
    unfinished = Saga.objects.filter(status=SagaStatus.REJECTED, compensated_at=None).filter(
        Q(decided_at__lt=cutoff) | Q(needs_attention=True)
    )
    for saga_id, order_id, attention in unfinished.values_list("pk", "order_id", "needs_attention"):
        flag = " (needs attention)" if attention else ""
        yield Violation("no unfinished compensation", f"attempt {saga_id} rejected, not compensated{flag}", order_id)


def audit(*, settle: timedelta = timedelta(seconds=60)) -> list[Violation]:
    """Every violation of the invariants; `settle` is how long a decision may take to be carried out."""
    checks: list[Callable[[], Iterator[Violation]]] = [
        negative_amounts,
        points_conserved,
        stock_conserved,
        lambda: one_outcome_per_attempt(settle=settle),
    ]
    return [violation for check in checks for violation in check()]


def events_of(order_id: int) -> list[dict]:
    return [event.as_message() for event in SagaEvent.objects.filter(order_id=order_id).order_by("timestamp", "id")]
