"""Seed 001's CQRS "my page": a projection folded from the event log and the points ledger (ADR 0006).

The fold is written once, as functions that turn one event (`event_ops`) or one ledger
entry (`entry_ops`) into SQL statements on the projection's rows: a user's balance, one
row per order, one row per exchange. The live projection runs them in the statement that
appends the event or entry (a WITH query of its INSERT, so in its transaction too);
`mypage_rebuild` runs them for every entry and event from scratch. The two therefore
agree (tests prove it on real sagas).

Each statement is an upsert or an update of one row, with no read before it: folding an
event costs one statement and locks only the row it changes, so a user's sagas do not
queue behind each other's page (ADR 0008). The page shows the newest 100 orders and
exchanges (selectors.mypage_get); older rows stay, unread.
"""

import json
from collections.abc import Callable

from django.db import connection, transaction

from config.sql import Write
from points.models import PointAccount, PointEntry

from .models import MyPage, MyPageExchange, MyPageOrder, SagaEvent

_PAGE, _ORDER, _EXCHANGE = MyPage._meta.db_table, MyPageOrder._meta.db_table, MyPageExchange._meta.db_table


def holder_of(message: dict) -> str | None:
    return message.get("holderId") or message.get("userId") or None


def event_ops(message: dict) -> list[Write]:
    """The statements that fold one event (as SagaEvent.as_message gives it) into its holder's page."""
    user_id = holder_of(message)
    if not user_id:
        return []
    kind, order_id = message["eventType"], message["orderId"]
    if kind in ("OrderCreated", "CheckoutStarted"):
        status = "PENDING" if "attempt" in message else "OPEN"
        lines, attempt = json.dumps(message.get("lines", [])), message.get("attempt")
        return [
            (
                f"INSERT INTO {_ORDER} (user_id, order_id, status, reason, cost, lines, attempt)"
                " VALUES (%s, %s, %s, '', %s, %s, %s) ON CONFLICT (user_id, order_id) DO UPDATE SET"
                " status = EXCLUDED.status, reason = '', cost = EXCLUDED.cost, lines = EXCLUDED.lines,"
                " attempt = EXCLUDED.attempt",
                [user_id, order_id, status, message.get("cost", 0), lines, attempt],
            )
        ]
    if kind in ("OrderPlaced", "OrderRejected"):
        status = "APPROVED" if kind == "OrderPlaced" else "REJECTED"
        return [
            (
                f"UPDATE {_ORDER} SET status = %s, reason = %s WHERE user_id = %s AND order_id = %s",
                [status, message.get("reason") or "", user_id, order_id],
            )
        ]
    if kind == "ExchangeSucceed":
        return [
            (
                f"INSERT INTO {_EXCHANGE} (user_id, saga_id, order_id, status, point, lines)"
                " VALUES (%s, %s, %s, 'APPLIED', %s, %s) ON CONFLICT (user_id, saga_id) DO UPDATE SET"
                " order_id = EXCLUDED.order_id, status = 'APPLIED', point = EXCLUDED.point, lines = EXCLUDED.lines",
                [user_id, message["sagaId"], order_id, message.get("point"), json.dumps(message.get("lines", []))],
            )
        ]
    if kind == "ExchangeCompensated":
        return [
            (
                f"UPDATE {_EXCHANGE} SET status = 'COMPENSATED' WHERE user_id = %s AND saga_id = %s",
                [user_id, message["sagaId"]],
            )
        ]
    return []


def entry_ops(user_id: str, amount: int) -> list[Write]:
    """The statement that folds one ledger entry into its account's balance."""
    return [
        (
            f"INSERT INTO {_PAGE} (user_id, balance, updated_at) VALUES (%s, %s, now())"
            f" ON CONFLICT (user_id) DO UPDATE SET balance = {_PAGE}.balance + EXCLUDED.balance, updated_at = now()",
            [user_id, amount],
        )
    ]


def _run(ops: list[Write]) -> None:
    if ops:
        with connection.cursor() as cursor:
            for sql, params in ops:
                cursor.execute(sql, params)


def mypage_event_ops(event: SagaEvent) -> list[Write]:
    """What event_record runs with every event it appends, in the same statement (config.sql.sql_insert)."""
    return event_ops(event.as_message())


def mypage_entry_ops(entry: PointEntry) -> list[Write]:
    """What the points services run with every ledger entry they append, in the same statement."""
    return entry_ops(entry.account_id, entry.amount)


def mypage_on_account_open(user_id: str) -> None:
    """An account opened without points yet has a page too (balance 0)."""
    MyPage.objects.bulk_create([MyPage(pk=user_id)], ignore_conflicts=True)


def mypage_on_balances_set(*, user_ids_from: int, user_ids_to: int, balance: int) -> None:
    """The set-based twin of entry_ops for points_batch_init: users "from".."to" now hold `balance`."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {_PAGE} (user_id, balance, updated_at)
            SELECT g::text, %(balance)s, now() FROM generate_series(%(first)s, %(last)s) AS g
            ON CONFLICT (user_id) DO UPDATE SET balance = EXCLUDED.balance, updated_at = now()
            """,
            {"balance": balance, "first": user_ids_from, "last": user_ids_to},
        )


def mypage_users() -> set[str]:
    """Every user with a page: an account, or an order or exchange of theirs on it."""
    users = set(MyPage.objects.values_list("pk", flat=True))
    users |= set(MyPageOrder.objects.values_list("user_id", flat=True).distinct())
    users |= set(MyPageExchange.objects.values_list("user_id", flat=True).distinct())
    return users


def mypage_rebuild(*, progress: Callable[[str], None] = lambda line: None, every: int = 100_000) -> int:
    """Fold the whole ledger and event log again into fresh pages; return how many users have a page.

    The tables are locked against writers first, so an event or entry that commits during
    the rebuild is either read by it or folded in live after it, never lost.
    """
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {_PAGE}, {_ORDER}, {_EXCHANGE} IN EXCLUSIVE MODE")  # readers still read
            cursor.execute(f"DELETE FROM {_ORDER}")
            cursor.execute(f"DELETE FROM {_EXCHANGE}")
            cursor.execute(f"DELETE FROM {_PAGE}")
        MyPage.objects.bulk_create(
            (MyPage(user_id=user_id) for user_id in PointAccount.objects.values_list("pk", flat=True).iterator()),
            batch_size=5000,
        )
        entries = PointEntry.objects.order_by("id").values_list("account_id", "amount")
        for done, (user_id, amount) in enumerate(entries.iterator(chunk_size=5000), start=1):
            _run(entry_ops(user_id, amount))
            if done % every == 0:
                progress(f"{done} ledger entries folded")
        for done, event in enumerate(SagaEvent.objects.order_by("timestamp", "id").iterator(chunk_size=5000), 1):
            _run(event_ops(event.as_message()))
            if done % every == 0:
                progress(f"{done} events folded")
        return len(mypage_users())
