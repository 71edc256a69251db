import json
from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from checkout.selectors import deadline_lateness


class Command(BaseCommand):
    help = "Print how late deadline rejections were decided (from DeadlineReached events)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--minutes", type=float, default=None, help="Only the last N minutes.")

    def handle(self, *args, minutes: float | None, **options) -> None:
        since = timezone.now() - timedelta(minutes=minutes) if minutes else None
        self.stdout.write(json.dumps(deadline_lateness(since=since)))
