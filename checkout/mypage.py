"""Seed 001's CQRS "my page": a projection folded from the event log and the points ledger (ADR 0006).

The fold is written once, as pure functions on a page (a dict): `fold_event` for saga
events (orders and exchanges), `fold_entry` for ledger entries (the balance). The live
projection applies them to the user's row in the transaction that appends the event or
entry; `mypage_rebuild` applies them to every event and entry from scratch. The two
therefore agree (tests prove it on real sagas).
"""

from collections.abc import Callable

from django.db import connection, transaction

from points.models import PointAccount, PointEntry

from .models import MyPage, SagaEvent

KEEP = 100  # orders and exchanges shown per user, the newest


def _empty() -> dict:
    return {"balance": 0, "orders": {}, "exchanges": {}}


def _trim(items: dict) -> dict:
    newest = sorted(items, key=int, reverse=True)[:KEEP]
    return {key: items[key] for key in newest}


def holder_of(message: dict) -> str | None:
    return message.get("holderId") or message.get("userId") or None


def fold_event(page: dict, message: dict) -> None:
    """Fold one event (as SagaEvent.as_message gives it) into its holder's page."""
    kind, order_key = message["eventType"], str(message["orderId"])
    orders = page["orders"]
    if kind in ("OrderCreated", "CheckoutStarted"):
        orders[order_key] = {
            "orderId": message["orderId"],
            "status": "PENDING" if "attempt" in message else "OPEN",
            "reason": None,
            "cost": message.get("cost", 0),
            "lines": message.get("lines", []),
            "attempt": message.get("attempt"),
        }
        page["orders"] = _trim(orders)
    elif kind in ("OrderPlaced", "OrderRejected") and order_key in orders:
        placed = kind == "OrderPlaced"
        orders[order_key] |= {"status": "APPROVED" if placed else "REJECTED", "reason": message.get("reason")}
    elif kind == "ExchangeSucceed":
        page["exchanges"][str(message["sagaId"])] = {
            "orderId": message["orderId"],
            "sagaId": message["sagaId"],
            "status": "APPLIED",
            "point": message.get("point"),
            "lines": message.get("lines", []),
        }
        page["exchanges"] = _trim(page["exchanges"])
    elif kind == "ExchangeCompensated" and str(message["sagaId"]) in page["exchanges"]:
        page["exchanges"][str(message["sagaId"])]["status"] = "COMPENSATED"


def fold_entry(page: dict, amount: int) -> None:
    page["balance"] += amount


def _apply(user_id: str, change: Callable[[dict], None]) -> None:
    """Fold a change into the user's row, locked until the caller's transaction commits.

    No savepoint: it runs on every event of the saga's hot path, and a failure here fails
    the caller's transaction anyway.
    """
    with transaction.atomic(savepoint=False):
        row = MyPage.objects.select_for_update().filter(pk=user_id).first()
        if row is None:
            MyPage.objects.bulk_create([MyPage(pk=user_id)], ignore_conflicts=True)  # a concurrent first may win
            row = MyPage.objects.select_for_update().get(pk=user_id)
        page = {"balance": row.balance, "orders": row.orders, "exchanges": row.exchanges}
        change(page)
        MyPage.objects.filter(pk=user_id).update(**page)


def mypage_on_event(event: SagaEvent) -> None:
    """Called by event_record for every event appended."""
    message = event.as_message()
    user_id = holder_of(message)
    if user_id:
        _apply(user_id, lambda page: fold_event(page, message))


def mypage_on_entry(entry: PointEntry) -> None:
    """Called for every ledger entry the points services append."""
    _apply(entry.account_id, lambda page: fold_entry(page, entry.amount))


def mypage_on_account_open(user_id: str) -> None:
    """An account opened without points yet has a page too (balance 0)."""
    MyPage.objects.bulk_create([MyPage(pk=user_id)], ignore_conflicts=True)


def mypage_on_balances_set(*, user_ids_from: int, user_ids_to: int, balance: int) -> None:
    """The set-based twin of fold_entry for points_batch_init: users "from".."to" now hold `balance`."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {MyPage._meta.db_table} (user_id, balance, orders, exchanges, updated_at)
            SELECT g::text, %(balance)s, '{{}}', '{{}}', now() FROM generate_series(%(first)s, %(last)s) AS g
            ON CONFLICT (user_id) DO UPDATE SET balance = EXCLUDED.balance, updated_at = now()
            """,
            {"balance": balance, "first": user_ids_from, "last": user_ids_to},
        )


def mypage_rebuild(*, progress: Callable[[str], None] = lambda line: None, every: int = 100_000) -> int:
    """Fold the whole ledger and event log again into fresh pages; return how many pages.

    The table is locked against writers first, so an event or entry that commits during
    the rebuild is either read by it or folded in live after it, never lost.
    """
    pages: dict[str, dict] = {}
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {MyPage._meta.db_table} IN EXCLUSIVE MODE")  # readers still read
        for user_id in PointAccount.objects.values_list("pk", flat=True).iterator():
            pages[user_id] = _empty()
        entries = PointEntry.objects.order_by("id").values_list("account_id", "amount")
        for done, (user_id, amount) in enumerate(entries.iterator(chunk_size=5000), start=1):
            fold_entry(pages.setdefault(user_id, _empty()), amount)
            if done % every == 0:
                progress(f"{done} ledger entries folded")
        for done, event in enumerate(SagaEvent.objects.order_by("timestamp", "id").iterator(chunk_size=5000), 1):
            message = event.as_message()
            user_id = holder_of(message)
            if user_id:
                fold_event(pages.setdefault(user_id, _empty()), message)
            if done % every == 0:
                progress(f"{done} events folded")
        MyPage.objects.all().delete()
        MyPage.objects.bulk_create(
            (MyPage(user_id=user_id, **page) for user_id, page in pages.items()), batch_size=5000
        )
    return len(pages)
