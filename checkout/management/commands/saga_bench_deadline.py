"""Measure how close to deadline_at the deadline fires, on a running stack.

It reproduces seed 000's downtime scenario at scale: it stops the consumers of the
`exchanges` queue, places N orders (which therefore can only end by their deadline),
waits for every one to be rejected, puts the consumers back and prints the lateness.
"""

import time

from django.core.management.base import BaseCommand, CommandError
from django.test import override_settings

from checkout.models import Saga, SagaStatus
from checkout.selectors import deadline_lateness
from checkout.services import order_place
from config.celery import app
from exchanges.services import currency_upsert
from points.services import points_deposit

HOLDER = "bench-deadline"


class Command(BaseCommand):
    help = "Place N orders with the exchange service down and print how late their deadlines fired."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--orders", type=int, default=50)
        parser.add_argument("--deadline", type=float, default=2.0, help="Deadline of these orders, in seconds.")
        parser.add_argument(
            "--rate", type=float, default=20.0, help="Orders placed per second; 0 places them as fast as possible."
        )

    def handle(self, *args, orders: int, deadline: float, rate: float, **options) -> None:
        queues = app.control.inspect(timeout=2).active_queues() or {}
        workers = [name for name, consumed in queues.items() if any(q["name"] == "exchanges" for q in consumed)]
        if not workers:
            raise CommandError("No worker consumes the exchanges queue: start the stack (make run) first.")
        app.control.cancel_consumer("exchanges", destination=workers, reply=True, timeout=2)
        self.stdout.write(f"exchanges consumers stopped on {', '.join(workers)}")
        try:
            currency_upsert(currency_id=1, code="USD", rate=1, stock=1_000_000)
            points_deposit(user_id=HOLDER, amount=orders)
            started = time.monotonic()
            order_ids = []
            # Every order here must reach its deadline: admission control (ADR 0010) would refuse
            # them past its limit, since none can settle while the exchanges consumers are stopped.
            with override_settings(SAGA_DEADLINE_SECONDS=deadline, SAGA_ADMISSION=False):
                for index in range(orders):
                    if rate:
                        time.sleep(max(0.0, started + index / rate - time.monotonic()))
                    order_ids.append(order_place(holder_id=HOLDER, lines=[(1, 1)]).pk)
            placing = time.monotonic() - started
            self.stdout.write(
                f"placed {orders} orders in {placing:.2f} s ({orders / placing:.0f}/s) with a {deadline} s deadline;"
                " waiting for the deadlines"
            )
            saga_ids = list(Saga.objects.filter(order_id__in=order_ids).values_list("pk", flat=True))
            give_up = time.monotonic() + deadline + 60
            while Saga.objects.filter(pk__in=saga_ids, status=SagaStatus.PENDING).exists():
                if time.monotonic() > give_up:
                    raise CommandError("some orders were still PENDING 60 s after their deadline")
                time.sleep(0.2)
        finally:
            app.control.add_consumer("exchanges", destination=workers, reply=True, timeout=2)
            self.stdout.write("exchanges consumers restored")
        report = deadline_lateness(saga_ids=saga_ids)
        self.stdout.write(
            f"deadline lateness over {report['count']} orders: median {report['medianMs']} ms, "
            f"p95 {report['p95Ms']} ms, max {report['maxMs']} ms; fired by {report['firedBy']}"
        )
