"""The saga against its floor, in one run, on a running stack (make run).

The floor is a bare Celery saga of the same shape on the same queues and workers
(checkout/floor.py: three chained links and a countdown, one Redis lock and one
PostgreSQL transaction each). The saga is a real checkout over HTTP
(`POST /wdm/orders/checkout/{id}`, answered once the attempt is settled) of fresh
orders that all approve. For each it measures:

* closed loop: C clients, each sending the next one as soon as its last one finished;
  sagas per second, end-to-end p50 / p99, and CPU milliseconds per saga of every
  process kind of the stack (psutil);
* open loop at a quarter of that capacity (or at --rate): p50 / p99 when not saturated.

and prints the saga's ratios to the floor. It overwrites users "0".."U-1" and items
"0".."I-1" (as seed 004's batch_init does) and adds fresh orders after the last one.
"""

import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Max
from django.utils import timezone

from checkout import floor
from checkout.locks import redis_client
from checkout.stackcpu import cpu_per_saga, cpu_snapshot, cpu_table
from checkout.wdm_client import WdmClient, percentile
from config.celery import app
from exchanges.services import stock_batch_init
from orders.models import Order
from orders.services import orders_batch_init
from points.services import points_batch_init

USERS, ITEMS = 1000, 100


@dataclass
class Run:
    label: str
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    cpu: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def timed(self, one: Callable[[], int]) -> None:
        """Run one saga and record its answer and latency (from any client thread)."""
        started = time.perf_counter()
        status = one()
        with self.lock:
            self.statuses[status] += 1
            self.latencies_ms.append((time.perf_counter() - started) * 1000)

    @property
    def done(self) -> int:
        return self.statuses[200]

    @property
    def rate(self) -> float:
        return self.done / self.seconds if self.seconds else 0.0

    def p(self, fraction: float) -> float:
        return percentile(sorted(self.latencies_ms), fraction) if self.latencies_ms else float("nan")

    def line(self) -> str:
        others = {status: count for status, count in sorted(self.statuses.items()) if status != 200}
        return (
            f"{self.label:<24} {self.done:6d} in {self.seconds:5.1f} s = {self.rate:6.1f} sagas/s;"
            f" p50 {self.p(0.5):6.0f} ms, p99 {self.p(0.99):6.0f} ms" + (f"; other answers {others}" if others else "")
        )


class Command(BaseCommand):
    help = "Run the saga and a bare Celery chain of the same shape (the floor); print throughput, latency, CPU."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8088/wdm", help="Base URL of the /wdm API.")
        parser.add_argument("--clients", type=int, default=16, help="Closed loop: sagas in flight.")
        parser.add_argument("--seconds", type=float, default=20.0, help="Length of each run.")
        parser.add_argument(
            "--rate", type=float, default=0.0, help="Open loop rate (sagas/s); default: a quarter of each capacity."
        )
        parser.add_argument("--only", choices=["floor", "saga"], help="Run one side only.")

    def handle(self, *args, url: str, clients: int, seconds: float, rate: float, only: str | None, **options):
        say = self.stdout.write
        if not (app.control.inspect(timeout=2).active_queues() or {}):
            raise CommandError("No Celery worker answers: start the stack (make run) first.")
        client = WdmClient(url, timeout=settings.SAGA_DEADLINE_SECONDS + 60)
        if client.get("stock/find/0").status == 0:
            raise CommandError(f"{url} does not answer: start the stack (make run) first.")
        if warning := client.profile_warning():
            say(warning)
        runs: list[Run] = []
        sides = [side for side in ("floor", "saga") if only in (None, side)]
        capacity: dict[str, float] = {}
        if "saga" in sides:
            points_batch_init(n=USERS, money=10**12)
            stock_batch_init(n=ITEMS, stock=10**9, price=1)
        for side in sides:
            start_one = self._floor_starter() if side == "floor" else self._saga_starter(client, clients, seconds)
            closed = self._closed(f"{side} closed x{clients}", start_one, clients=clients, seconds=seconds)
            say(closed.line())
            capacity[side] = closed.rate
            runs.append(closed)
        for side in sides:
            open_rate = rate or capacity[side] / 4
            start_one = self._floor_starter() if side == "floor" else self._saga_starter(client, 0, seconds, open_rate)
            opened = self._open(f"{side} open {open_rate:.1f}/s", start_one, rate=open_rate, seconds=seconds)
            say(opened.line())
            runs.append(opened)
        say("")
        say(cpu_table([(run.label, run.cpu) for run in runs]))
        if len(sides) == 2:
            floor_closed, saga_closed, floor_open, saga_open = runs
            say("")
            say(
                f"saga / floor: throughput {saga_closed.rate / max(floor_closed.rate, 1e-9):.2f}x;"
                f" CPU per saga {saga_closed.cpu['stack'] / max(floor_closed.cpu['stack'], 1e-9):.1f}x;"
                f" p50 at {'--rate' if rate else 'a quarter of capacity'}"
                f" {saga_open.p(0.5) / max(floor_open.p(0.5), 1e-9):.1f}x"
                f" ({saga_open.p(0.5):.0f} ms vs {floor_open.p(0.5):.0f} ms)"
            )

    # --- the two sides -------------------------------------------------------------------

    def _floor_starter(self) -> Callable[[], int]:
        """Send one floor saga and wait for its last link; 200 when it finished."""
        floor.floor_table_create()
        run, counter, lock = uuid.uuid4().hex[:8], iter(range(10**9)), threading.Lock()
        redis = redis_client()

        def one() -> int:
            with lock:
                saga = next(counter)
            floor.floor_saga(run, saga, deadline_at=timezone.now() + timedelta(seconds=settings.SAGA_DEADLINE_SECONDS))
            return 200 if redis.blpop([floor.done_key(run, saga)], timeout=60) else 0

        return one

    def _saga_starter(self, client: WdmClient, clients: int, seconds: float, rate: float = 0.0) -> Callable[[], int]:
        """Check out one fresh order over HTTP (users and items were made rich first); its status (200: approved)."""
        # enough fresh orders for the run even at a generous 300 sagas/s, all approving
        needed = int(max(rate, 300) * seconds * 1.2) + clients
        first = (Order.objects.aggregate(last=Max("pk"))["last"] or 0) + 1
        orders_batch_init(n=needed, n_items=ITEMS, n_users=USERS, item_price=1, first_id=first)
        ids = list(range(first, first + needed))
        random.shuffle(ids)
        pending, lock = iter(ids), threading.Lock()

        def one() -> int:
            with lock:
                order_id = next(pending)
            return client.post(f"orders/checkout/{order_id}").status

        return one

    # --- the two loops ---------------------------------------------------------------------

    def _closed(self, label: str, one: Callable[[], int], *, clients: int, seconds: float) -> Run:
        run = Run(label)
        stop_at = time.monotonic() + seconds

        def client() -> None:
            while time.monotonic() < stop_at:
                run.timed(one)

        before, started = cpu_snapshot(), time.monotonic()
        threads = [threading.Thread(target=client) for _ in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        run.seconds = time.monotonic() - started
        run.cpu = cpu_per_saga(before, cpu_snapshot(), run.done)
        return run

    def _open(self, label: str, one: Callable[[], int], *, rate: float, seconds: float) -> Run:
        """Start one saga every 1/rate seconds whatever the answers do (at most 512 in flight)."""
        run = Run(label)
        total = int(rate * seconds)
        before, started = cpu_snapshot(), time.monotonic()
        with ThreadPoolExecutor(max_workers=512) as pool:
            for index in range(total):
                time.sleep(max(0.0, started + index / rate - time.monotonic()))
                pool.submit(run.timed, one)
        run.seconds = time.monotonic() - started
        run.cpu = cpu_per_saga(before, cpu_snapshot(), run.done)
        return run
