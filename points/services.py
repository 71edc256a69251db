from django.db import transaction
from django.db.models import F

from checkout.participant import Outcome, StepFailed, apply_once, compensate_once

from .models import EntryKind, PointAccount, PointEntry, PointUse

MAX_BALANCE = 10**15


class BalanceTooLarge(ValueError):
    pass


def points_deposit(*, user_id: str, amount: int) -> PointAccount:
    """Add points to an account, opening it on its first deposit."""
    with transaction.atomic():
        PointAccount.objects.get_or_create(pk=user_id)
        added = PointAccount.objects.filter(pk=user_id, balance__lte=MAX_BALANCE - amount).update(
            balance=F("balance") + amount
        )
        if not added:
            raise BalanceTooLarge(f"a balance may not exceed {MAX_BALANCE}")
        PointEntry.objects.create(account_id=user_id, kind=EntryKind.DEPOSIT, amount=amount)
        return PointAccount.objects.get(pk=user_id)


def points_use(*, saga_id: int, order_id: int, user_id: str, amount: int) -> Outcome:
    """Debit an order's cost once; spending exactly the whole balance succeeds."""

    def debit(use: PointUse) -> None:
        debited = PointAccount.objects.filter(pk=user_id, balance__gte=amount).update(balance=F("balance") - amount)
        if not debited:
            exists = PointAccount.objects.filter(pk=user_id).exists()
            raise StepFailed("POINT_LIMIT" if exists else "UNKNOWN_ACCOUNT")
        PointEntry.objects.create(account_id=user_id, kind=EntryKind.USE, amount=-amount, saga_id=saga_id)
        use.balance_after = PointAccount.objects.values_list("balance", flat=True).get(pk=user_id)

    return apply_once(PointUse, saga_id=saga_id, order_id=order_id, effect=debit, user_id=user_id, amount=amount)


def points_use_compensate(*, saga_id: int, order_id: int) -> Outcome:
    """Refund an applied debit once."""

    def refund(use: PointUse) -> None:
        PointAccount.objects.filter(pk=use.user_id).update(balance=F("balance") + use.amount)
        PointEntry.objects.create(account_id=use.user_id, kind=EntryKind.REFUND, amount=use.amount, saga_id=saga_id)
        use.balance_after = PointAccount.objects.values_list("balance", flat=True).get(pk=use.user_id)

    return compensate_once(PointUse, saga_id=saga_id, order_id=order_id, undo=refund)
