"""The floor: a bare Celery saga of the same shape as ours, for `manage.py saga_bench`.

Three links on the exchanges, points and orders queues, chained with immutable
signatures, plus a countdown on the checkout queue at the deadline; each task takes one
Redis lock and commits one PostgreSQL transaction (an insert), and does nothing else.
It is what Celery, Redis and PostgreSQL cost for a saga of this shape on these workers:
the benchmark runs it in the same run as the real saga and prints the ratio.
"""

from celery import chain, shared_task, signature
from django.db import connection, transaction

from .locks import redis_client

TABLE = "saga_bench_floor"
LINKS = ("exchanges", "points", "orders")


def floor_table_create() -> None:
    """The floor's own table (not a model: only the benchmark writes it)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {TABLE} (run text, saga bigint, step text, PRIMARY KEY (run, saga, step))"
        )


def floor_table_drop() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")


def done_key(run: str, saga: int) -> str:
    return f"floor:{run}:{saga}:done"


def floor_saga(run: str, saga: int, *, deadline_at) -> None:
    """Send one floor saga: its chain, and its countdown at `deadline_at`."""
    links = [signature(f"{queue}.floor", args=(run, saga, queue), immutable=True) for queue in LINKS]
    chain(*links).apply_async()
    signature("checkout.floor", args=(run, saga, "deadline"), immutable=True).apply_async(eta=deadline_at)


def _step(run: str, saga: int, step: str) -> None:
    client = redis_client()
    lock = client.lock(f"floor:{run}:{saga}", timeout=10, blocking_timeout=5, thread_local=False)
    with lock, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TABLE} (run, saga, step) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING", [run, saga, step]
        )
    if step == LINKS[-1]:
        client.rpush(done_key(run, saga), 1)
        client.expire(done_key(run, saga), 300)


@shared_task(name="exchanges.floor", acks_late=True)
def exchanges_floor(run: str, saga: int, step: str) -> None:
    _step(run, saga, step)


@shared_task(name="points.floor", acks_late=True)
def points_floor(run: str, saga: int, step: str) -> None:
    _step(run, saga, step)


@shared_task(name="orders.floor", acks_late=True)
def orders_floor(run: str, saga: int, step: str) -> None:
    _step(run, saga, step)


@shared_task(name="checkout.floor", acks_late=True)
def checkout_floor(run: str, saga: int, step: str) -> None:
    _step(run, saga, step)
