"""Seed 004's benchmark, against a running stack's /wdm API.

batch_init N users, items and orders (timed), then C clients check out random orders
for S seconds; prints requests/s and latency percentiles, and fails on any 5xx or
unanswered request. Checking out an order that is already paid is part of the mix
(it answers 200 and changes nothing), as in the seed's benchmark.
"""

import random
import threading
import time
from collections import Counter

from django.core.management.base import BaseCommand, CommandError

from checkout.wdm_client import Answer, WdmClient, percentile


class Command(BaseCommand):
    help = "batch_init, then random checkouts from many clients; prints requests/s and p50/p99 latency."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8088/wdm", help="Base URL of the /wdm API.")
        parser.add_argument("--n", type=int, default=100_000, help="Users, items and orders to batch_init.")
        parser.add_argument("--clients", type=int, default=50)
        parser.add_argument("--seconds", type=float, default=60.0)
        parser.add_argument("--skip-init", action="store_true", help="Reuse what an earlier run initialised.")

    def handle(self, *args, url: str, n: int, clients: int, seconds: float, skip_init: bool, **options) -> None:
        client = WdmClient(url)
        say = self.stdout.write
        if not skip_init:
            for what, path in (
                ("users", f"payment/batch_init/{n}/1000000"),
                ("items", f"stock/batch_init/{n}/1000000/1"),
                ("orders", f"orders/batch_init/{n}/{n}/{n}/1"),
            ):
                started = time.perf_counter()
                client.expect(client.post(path), f"batch_init {what}")
                say(f"batch_init {n} {what}: {time.perf_counter() - started:.1f} s")
        answers: list[Answer] = []
        lock = threading.Lock()
        stop_at = time.monotonic() + seconds

        def run_client() -> None:
            mine = []
            while time.monotonic() < stop_at:
                mine.append(client.post(f"orders/checkout/{random.randrange(n)}"))
            with lock:
                answers.extend(mine)

        say(f"{clients} clients checking out random orders for {seconds:.0f} s")
        started = time.monotonic()
        threads = [threading.Thread(target=run_client) for _ in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        latencies = sorted(a.seconds * 1000 for a in answers)
        statuses = Counter(a.status for a in answers)
        failures = sum(count for status, count in statuses.items() if status == 0 or status >= 500)
        say(
            f"{len(answers)} checkouts in {elapsed:.1f} s: {len(answers) / elapsed:.1f} requests/s; "
            f"latency p50 {percentile(latencies, 0.5):.0f} ms, p99 {percentile(latencies, 0.99):.0f} ms, "
            f"max {latencies[-1]:.0f} ms"
        )
        say(f"answers by status: {dict(sorted(statuses.items()))} (0 = no answer)")
        if failures:
            raise CommandError(f"{failures} requests got a 5xx or no answer")
