"""Chaos run against a running stack (`make run`): sagas under load while processes die.

It places N orders over HTTP (each with an Idempotency-Key, retried as a careful client
would), SIGKILLs pool processes of this checkout's `make run` workers (every instance
of every queue, SAGA_WORKERS) at random moments, crashes and restarts the embedded Redis
once, then waits until every order is settled and runs the audit. It touches no process
of another checkout or of a test run on the same machine.
Start the stack with SAGA_FAULT_PROFILE=duplicate to have every task delivered twice.
"""

import random
import signal
import statistics
import threading
import time
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path

import psutil
import requests
from celery.utils.nodenames import host_format
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Max

from checkout.audit import audit
from checkout.models import Saga, SagaEvent
from checkout.stackcpu import BASE_DIR, _launched_here
from checkout.wdm_client import api_key_headers
from config.stack import EmbeddedRedis, embedded_redis_url
from exchanges.services import currency_create
from orders.models import Order
from points.services import points_deposit

HOLDERS = 200


def _is_worker(args: list[str]) -> bool:
    """A `celery worker -Q ... -n ...` process (a worker's main process or its pool's), not its supervisor."""
    is_celery = any(Path(arg).name == "celery" for arg in args)
    return is_celery and {"worker", "-Q", "-n"} <= set(args) and "config.supervise" not in args


def _worker_children(base_dir: Path = BASE_DIR) -> list[tuple[str, psutil.Process]]:
    """The pool processes of this checkout's `make run` workers, each with its worker's node name.

    Only descendants of this checkout's launcher count (as checkout/stackcpu.py finds them): the
    workers of a test run or of another checkout's stack on this machine are never touched. Every
    instance of every queue counts (SAGA_WORKERS). The workers' main processes stay: their pool
    replaces a killed child, and late acks deliver the task it held again.
    """
    workers: dict[int, tuple[psutil.Process, list[str]]] = {}
    for pid in _launched_here(base_dir) or ():
        try:
            process = psutil.Process(pid)
            args = process.cmdline()
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
        if _is_worker(args):
            workers[pid] = (process, args)
    children = []
    for pid in sorted(workers):
        process, args = workers[pid]
        try:
            if process.ppid() in workers:  # a pool process: its parent is the worker
                continue
            node = host_format(args[args.index("-n") + 1])
            children.extend((node, child) for child in process.children())
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return children


class Command(BaseCommand):
    help = "Run sagas while killing worker processes and restarting Redis; then audit."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8088", help="The stack's seed-dialect API.")
        parser.add_argument("--sagas", type=int, default=2000)
        parser.add_argument("--rate", type=float, default=10.0, help="Orders placed per second.")
        parser.add_argument("--kills", type=int, default=6, help="Worker processes to SIGKILL during the run.")
        parser.add_argument("--no-redis-restart", action="store_true")
        parser.add_argument("--settle-timeout", type=float, default=600.0)

    def handle(self, *args, url, sagas, rate, kills, no_redis_restart, settle_timeout, **options) -> None:
        say = self.stdout.write
        run = uuid.uuid4().hex[:8]
        redis_restart = not no_redis_restart
        if redis_restart and embedded_redis_url(int(settings.REDIS_URL.rsplit("/", 1)[-1])) != settings.REDIS_URL:
            raise CommandError("Only the embedded Redis of `make run` can be restarted; pass --no-redis-restart.")
        if _launched_here() is None:
            raise CommandError(
                f"No `make run` of this checkout ({BASE_DIR}) is running: start it first. "
                "The chaos run kills only the workers of this checkout's own stack."
            )
        victims = _worker_children()
        if not victims:
            raise CommandError("This checkout's `make run` has no saga worker running yet.")
        nodes = sorted({node for node, _ in victims})
        say(f"workers of this checkout's make run: {', '.join(nodes)} ({len(victims)} pool processes)")

        # A world where every outcome happens: short points (POINT_LIMIT) and, late in the run, short stock.
        currency = currency_create(code=f"CHAOS-{run}", rate=1, stock=int(sagas * 2.4))
        holders = [f"chaos-{run}-{i}" for i in range(HOLDERS)]
        for holder in holders:
            points_deposit(user_id=holder, amount=int(sagas / HOLDERS * 2.7))
        say(f"run {run}: {sagas} sagas at {rate}/s on currency {currency.pk}, {HOLDERS} holders")

        placed: list[int] = []
        failures = Counter()
        kills_done: list[str] = []
        restarts = []
        duration = sagas / rate
        started = time.monotonic()

        auth = api_key_headers()  # SAGA_API_KEY, for a protected stack (README, Security): orders:place

        def place(index: int) -> None:
            body = {"holderId": random.choice(holders), "currencyId": currency.pk, "amount": random.randint(1, 5)}
            key = f"chaos-{run}-{index}"
            for attempt in range(30):  # a careful client: retry with the same key until answered
                try:
                    response = requests.post(
                        f"{url}/orders", json=body, headers={"Idempotency-Key": key, **auth}, timeout=30
                    )
                    if response.status_code == 201:
                        placed.append(response.json()["id"])
                        return
                    failures[response.status_code] += 1
                except requests.RequestException:
                    failures["no answer"] += 1
                time.sleep(min(2.0, 0.1 * 2**attempt))
            failures["gave up"] += 1

        def placer() -> None:
            threads = []
            for index in range(sagas):
                time.sleep(max(0.0, started + index / rate - time.monotonic()))
                thread = threading.Thread(target=place, args=(index,))
                thread.start()
                threads.append(thread)
            for thread in threads:
                thread.join()

        def killer() -> None:
            for moment in sorted(random.uniform(0.05, 0.95) * duration for _ in range(kills)):
                time.sleep(max(0.0, started + moment - time.monotonic()))
                victims = _worker_children()
                if victims:
                    node, victim = random.choice(victims)
                    try:
                        victim.send_signal(signal.SIGKILL)
                        kills_done.append(node)
                    except psutil.NoSuchProcess:
                        pass

        def restarter() -> None:
            time.sleep(max(0.0, started + duration / 2 - time.monotonic()))
            EmbeddedRedis().crash_and_restart(down_seconds=2.0)
            restarts.append(time.monotonic() - started)

        chaos = [threading.Thread(target=placer), threading.Thread(target=killer)]
        if redis_restart:
            chaos.append(threading.Thread(target=restarter))
        for thread in chaos:
            thread.start()
        for thread in chaos:
            thread.join()
        say(
            f"placed {len(placed)} orders in {time.monotonic() - started:.0f} s; {len(kills_done)} worker processes "
            f"killed; Redis restarted {len(restarts)} time(s); client retries: {dict(failures) or 'none'}"
        )

        give_up = time.monotonic() + settle_timeout
        while True:
            unsettled = Saga.objects.filter(order_id__in=placed).exclude(status="APPROVED").filter(compensated_at=None)
            pending = unsettled.count()
            if not pending:
                break
            if time.monotonic() > give_up:
                raise CommandError(f"{pending} sagas still unsettled after {settle_timeout:.0f} s")
            say(f"waiting for {pending} sagas to settle")
            time.sleep(5)

        outcomes = Counter(Order.objects.filter(pk__in=placed).values_list("status", "rejection_reason"))
        lateness = [
            e["latenessMs"]
            for e in SagaEvent.objects.filter(order_id__in=placed, event_type="DeadlineReached").values_list(
                "payload", flat=True
            )
        ]
        attempts = Saga.objects.filter(order_id__in=placed).aggregate(max_attempt=Max("attempt"))["max_attempt"]
        violations = audit(settle=timedelta(seconds=0))
        say(f"sagas:              {len(placed)} (one attempt each: {attempts == 1})")
        by_node = ", ".join(f"{node} x{n}" for node, n in sorted(Counter(kills_done).items()))
        say(f"worker kills:       {len(kills_done)} ({by_node or 'none'}); Redis restarts: {len(restarts)}")
        say(f"approved:           {outcomes[('APPROVED', '')]}")
        for (status, reason), count in sorted(outcomes.items()):
            if status == "REJECTED":
                say(f"rejected {reason + ':':12s} {count}")
        if lateness:
            say(
                f"deadline lateness: max {max(lateness)} ms, median {statistics.median(lateness):.0f} ms "
                f"over {len(lateness)} deadline rejections"
            )
        else:
            say("deadline lateness: no order reached its deadline")
        say(f"audit violations:   {len(violations)}")
        for violation in violations[:20]:
            say(f"  {violation.invariant} (order {violation.order_id}): {violation.detail}")
        if violations or len(placed) != sagas or any(status == "PENDING" for status, _ in outcomes):
            raise CommandError("the chaos run left the system inconsistent")
        say(self.style.SUCCESS("every order terminal, no violation"))
