"""Seed 004's benchmark, against a running stack's /wdm API.

The shape of seed 004's public stress test: batch_init N users, items and orders
(timed), then C clients each check out a random order and wait 1 s (--wait), for S
seconds. Prints answers per second by status, latency percentiles (all, and of each
status), and the stack's CPU milliseconds per 200 answer by process kind (psutil).
Checking out an order that is already paid is part of the mix (it answers 200 and
changes nothing), as in the seed's benchmark. A 503 is admission control turning a
checkout away (it fails the run only with --no-503); any other 5xx, or no answer, fails it.
"""

import random
import threading
import time
from collections import Counter

from django.core.management.base import BaseCommand, CommandError

from checkout.stackcpu import cpu_per_saga, cpu_snapshot, cpu_table
from checkout.wdm_client import Answer, WdmClient, percentile


class Command(BaseCommand):
    help = "batch_init, then random checkouts from many clients; prints requests/s and p50/p99 latency."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8088/wdm", help="Base URL of the /wdm API.")
        parser.add_argument("--n", type=int, default=100_000, help="Users, items and orders to batch_init.")
        parser.add_argument("--clients", type=int, default=50)
        parser.add_argument("--seconds", type=float, default=60.0)
        parser.add_argument("--wait", type=float, default=1.0, help="Seconds each client waits after an answer.")
        parser.add_argument("--skip-init", action="store_true", help="Reuse what an earlier run initialised.")
        parser.add_argument("--no-503", action="store_true", help="Fail the run if any checkout is turned away.")

    def handle(
        self, *args, url: str, n: int, clients: int, seconds: float, wait: float, skip_init: bool, **options
    ) -> None:
        client = WdmClient(url)
        say = self.stdout.write
        if warning := client.profile_warning():
            say(warning)
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
                time.sleep(wait)  # the seed's locust user: constant(1) between requests
            with lock:
                answers.extend(mine)

        say(f"{clients} clients checking out random orders for {seconds:.0f} s, each waiting {wait} s after an answer")
        before, started = cpu_snapshot(), time.monotonic()
        threads = [threading.Thread(target=run_client) for _ in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        statuses = Counter(a.status for a in answers)
        cpu = cpu_per_saga(before, cpu_snapshot(), statuses[200])
        latencies = sorted(a.seconds * 1000 for a in answers)
        say(
            f"{len(answers)} checkouts in {elapsed:.1f} s: {len(answers) / elapsed:.1f} requests/s,"
            f" {statuses[200] / elapsed:.1f} answered 200 per second; latency p50 {percentile(latencies, 0.5):.0f} ms,"
            f" p99 {percentile(latencies, 0.99):.0f} ms, max {latencies[-1]:.0f} ms"
        )
        for status, count in sorted(statuses.items()):
            mine = sorted(a.seconds * 1000 for a in answers if a.status == status)
            errors = Counter(a.body.get("error", "") for a in answers if a.status == status and a.body.get("error"))
            say(
                f"  {status or 'no answer'}: {count} ({count / elapsed:.1f}/s), p50 {percentile(mine, 0.5):.0f} ms,"
                f" p99 {percentile(mine, 0.99):.0f} ms" + (f", {dict(errors)}" if errors else "")
            )
        say(cpu_table([("per 200 answer", cpu)]))
        failures = sum(count for status, count in statuses.items() if status == 0 or (status >= 500 and status != 503))
        if failures:
            raise CommandError(f"{failures} requests got a 5xx other than 503, or no answer")
        if options["no_503"] and statuses[503]:
            raise CommandError(f"{statuses[503]} checkouts were turned away (503)")
