import json
import time

from django.core.management.base import BaseCommand

from checkout.follow import events_follow


class Command(BaseCommand):
    help = "Print saga events as JSON lines, like the seed's Kafka console consumer; --order N for one order."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--order", type=int, default=None, help="Only this order's events.")
        parser.add_argument("--follow", action="store_true", help="Keep printing new events as they happen.")
        parser.add_argument("--new", action="store_true", help="Skip the events so far (with --follow).")
        parser.add_argument("--seconds", type=float, default=None, help="Stop following after this long.")

    def handle(self, *args, order, follow, new, seconds, **options) -> None:
        stop_at = time.monotonic() + seconds if seconds else None
        for event in events_follow(
            order_id=order,
            from_beginning=not new,
            follow=follow,
            keep_going=lambda: stop_at is None or time.monotonic() < stop_at,
        ):
            if event is not None:
                self.stdout.write(json.dumps(event.as_message()))
                self.stdout.flush()
