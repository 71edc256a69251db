from django.core.management.base import BaseCommand

from checkout.mypage import mypage_rebuild


class Command(BaseCommand):
    help = "Rebuild the 'my page' projection from the points ledger and the event log."

    def handle(self, *args, **options) -> None:
        pages = mypage_rebuild(progress=lambda line: self.stdout.write(line, ending="\n"))
        self.stdout.write(f"rebuilt {pages} pages")
