import json
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from checkout.audit import audit, events_of


class Command(BaseCommand):
    help = "Check every invariant of the saga on the live database; print each violation with its order's events."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--settle",
            type=float,
            default=60.0,
            help="Seconds a decision may take to be carried out (a PENDING past its deadline, a compensation).",
        )

    def handle(self, *args, settle: float, **options) -> None:
        violations = audit(settle=timedelta(seconds=settle))
        for violation in violations:
            where = f" (order {violation.order_id})" if violation.order_id is not None else ""
            self.stdout.write(self.style.ERROR(f"VIOLATION {violation.invariant}{where}: {violation.detail}"))
            if violation.order_id is not None:
                for event in events_of(violation.order_id):
                    self.stdout.write("    " + json.dumps(event))
        if violations:
            raise CommandError(f"{len(violations)} violation(s)")
        self.stdout.write(self.style.SUCCESS("audit: no violation"))
