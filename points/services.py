import uuid

from django.db import connection, transaction
from django.db.models import F

from checkout.mypage import mypage_entry_ops, mypage_on_account_open, mypage_on_balances_set
from checkout.participant import Outcome, StepFailed, apply_once, compensate_once
from config.errors import Refused
from config.sql import sql_insert

from .models import EntryKind, PointAccount, PointEntry, PointUse

MAX_BALANCE = 10**15


class BalanceTooLarge(Refused):
    def __init__(self) -> None:
        super().__init__("BALANCE_TOO_LARGE", f"a balance may not exceed {MAX_BALANCE}")


def _ledger(**fields: object) -> PointEntry:
    """Append to the ledger; the "my page" projection folds the entry in, in the same transaction."""
    entry = PointEntry(**fields)
    sql_insert(entry, along=mypage_entry_ops(entry))
    return entry


def points_account_create() -> PointAccount:
    """Open an empty account under a new id (a UUID: it never collides with batch_init's "0".."n-1")."""
    with transaction.atomic():
        account = PointAccount.objects.create(pk=str(uuid.uuid4()))
        mypage_on_account_open(account.pk)
        return account


def points_deposit(*, user_id: str, amount: int, open_account: bool = True) -> PointAccount:
    """Add points to an account, opening it on its first deposit unless `open_account` is off."""
    with transaction.atomic():
        if open_account:
            PointAccount.objects.get_or_create(pk=user_id)
        added = PointAccount.objects.filter(pk=user_id, balance__lte=MAX_BALANCE - amount).update(
            balance=F("balance") + amount
        )
        if not added:
            PointAccount.objects.get(pk=user_id)  # an unknown account raises DoesNotExist
            raise BalanceTooLarge()
        _ledger(account_id=user_id, kind=EntryKind.DEPOSIT, amount=amount)
        return PointAccount.objects.get(pk=user_id)


def points_pay(*, user_id: str, amount: int) -> PointAccount:
    """Take points outside any saga; refused if the balance would go negative."""
    with transaction.atomic():
        paid = PointAccount.objects.filter(pk=user_id, balance__gte=amount).update(balance=F("balance") - amount)
        account = PointAccount.objects.get(pk=user_id)  # an unknown account raises DoesNotExist
        if not paid:
            raise Refused("POINT_LIMIT", f"user {user_id} has {account.balance}, not {amount}")
        _ledger(account_id=user_id, kind=EntryKind.PAYMENT, amount=-amount)
        return account


def points_batch_init(*, n: int, money: int) -> None:
    """Create or overwrite accounts "0".."n-1" with `money` each; the ledger records each change."""
    accounts, entries = PointAccount._meta.db_table, PointEntry._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH ids AS (SELECT g::text AS user_id FROM generate_series(0, %(n)s - 1) AS g),
            before AS (SELECT a.user_id, a.balance FROM {accounts} a JOIN ids USING (user_id)),
            upserted AS (
                INSERT INTO {accounts} (user_id, balance, created_at)
                SELECT user_id, %(money)s, now() FROM ids
                ON CONFLICT (user_id) DO UPDATE SET balance = EXCLUDED.balance
                RETURNING user_id
            )
            INSERT INTO {entries} (account_id, kind, amount, created_at)
            SELECT upserted.user_id, %(kind)s, %(money)s - COALESCE(before.balance, 0), now()
            FROM upserted LEFT JOIN before USING (user_id)
            WHERE %(money)s - COALESCE(before.balance, 0) <> 0
            """,
            {"n": n, "money": money, "kind": EntryKind.SET},
        )
        mypage_on_balances_set(user_ids_from=0, user_ids_to=n - 1, balance=money)


def _balance_change(*, user_id: str, change: int, at_least: int | None = None) -> int | None:
    """Add `change` to the balance (if it holds at least `at_least`); the new balance, or None if refused.

    One statement (UPDATE ... RETURNING) where a conditional update and a read back were two.
    """
    condition, params = ("AND balance >= %s", [at_least]) if at_least is not None else ("", [])
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {PointAccount._meta.db_table} SET balance = balance + %s WHERE user_id = %s {condition}"
            " RETURNING balance",
            [change, user_id, *params],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def points_use(*, saga_id: int, order_id: int, user_id: str, amount: int) -> Outcome:
    """Debit an order's cost once; spending exactly the whole balance succeeds."""

    def debit(use: PointUse) -> dict:
        balance_after = _balance_change(user_id=user_id, change=-amount, at_least=amount)
        if balance_after is None:
            exists = PointAccount.objects.filter(pk=user_id).exists()
            raise StepFailed("POINT_LIMIT" if exists else "UNKNOWN_ACCOUNT")
        _ledger(account_id=user_id, kind=EntryKind.USE, amount=-amount, saga_id=saga_id)
        return {"balance_after": balance_after}

    # The debit is one conditional update: a refusal writes nothing, so no savepoint is needed.
    return apply_once(
        PointUse,
        saga_id=saga_id,
        order_id=order_id,
        effect=debit,
        refuses_before_writing=True,
        user_id=user_id,
        amount=amount,
    )


def points_use_compensate(*, saga_id: int, order_id: int) -> Outcome:
    """Refund an applied debit once."""

    def refund(use: PointUse) -> dict:
        balance_after = _balance_change(user_id=use.user_id, change=use.amount)
        _ledger(account_id=use.user_id, kind=EntryKind.REFUND, amount=use.amount, saga_id=saga_id)
        return {"balance_after": balance_after}

    return compensate_once(PointUse, saga_id=saga_id, order_id=order_id, undo=refund)
