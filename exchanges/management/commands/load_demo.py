from django.conf import settings
from django.core.management.base import BaseCommand

from exchanges.demo import DEMO_STOCK, demo_currencies
from exchanges.services import currency_upsert


class Command(BaseCommand):
    help = "Create the demo currencies (and seed 000's currencies 100 and 200 under SAGA_FAULT_PROFILE=seed)."

    def handle(self, *args, **options) -> None:
        for currency_id, code, rate in demo_currencies(settings.SAGA_FAULT_PROFILE):
            currency = currency_upsert(currency_id=currency_id, code=code, rate=rate, stock=DEMO_STOCK)
            self.stdout.write(f"currency {currency.id} {currency.code}: rate {currency.rate}, stock {currency.stock}")
