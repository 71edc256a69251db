"""Seed 004's consistency check, against a running stack's /wdm API.

One item with stock S and price 1, U users with credit 1, U one-item orders, all
checked out at once with F requests in flight. Exactly S checkouts may succeed; the
stock must end at 0 and the credits must sum to U - S; no request may fail with a 5xx
or go unanswered.
"""

import time
from collections import Counter

from django.core.management.base import BaseCommand, CommandError

from checkout.wdm_client import WdmClient


class Command(BaseCommand):
    help = "Check out many one-item orders at once against a running stack and verify nothing is lost or doubled."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8088/wdm", help="Base URL of the /wdm API.")
        parser.add_argument("--users", type=int, default=1000)
        parser.add_argument("--stock", type=int, default=100)
        parser.add_argument("--in-flight", type=int, default=100)

    def handle(self, *args, url: str, users: int, stock: int, in_flight: int, **options) -> None:
        client = WdmClient(url)
        say = self.stdout.write
        item = client.expect(client.post("stock/item/create/1"), "create the item")["item_id"]
        client.expect(client.post(f"stock/add/{item}/{stock}"), "stock the item")
        say(f"item {item}: stock {stock}, price 1; creating {users} users with credit 1 and their orders")

        def prepare(_: int) -> tuple[str, str]:
            user = client.expect(client.post("payment/create_user"), "create a user")["user_id"]
            client.expect(client.post(f"payment/add_funds/{user}/1"), "fund a user")
            order = client.expect(client.post(f"orders/create/{user}"), "create an order")["order_id"]
            client.expect(client.post(f"orders/addItem/{order}/{item}/1"), "add the item")
            return user, order

        started = time.monotonic()
        with_orders = client.in_parallel([lambda i=i: prepare(i) for i in range(users)], workers=in_flight)
        say(f"prepared in {time.monotonic() - started:.1f} s; checking out {users} orders, {in_flight} in flight")
        started = time.monotonic()
        answers = client.in_parallel(
            [lambda order=order: client.post(f"orders/checkout/{order}") for _, order in with_orders],
            workers=in_flight,
        )
        checkout_seconds = time.monotonic() - started
        succeeded = sum(1 for a in answers if a.status == 200)
        failures = sum(1 for a in answers if a.status == 0 or a.status >= 500)
        reasons = Counter(a.body.get("error", "?") for a in answers if 400 <= a.status < 500)
        stock_left = client.expect(client.get(f"stock/find/{item}"), "read the stock")["stock"]
        credits = client.in_parallel(
            [lambda user=user: client.get(f"payment/find_user/{user}") for user, _ in with_orders], workers=in_flight
        )
        credit_sum = sum(client.expect(c, "read a credit")["credit"] for c in credits)
        slowest = max(a.seconds for a in answers)
        say(f"succeeded checkouts: {succeeded} (expected {min(stock, users)})")
        say(f"stock left:          {stock_left} (expected {max(0, stock - users)})")
        say(f"credits sum:         {credit_sum} (expected {users - min(stock, users)})")
        say(f"5xx or no answer:    {failures} (expected 0)")
        say(
            f"rejections by reason: {dict(reasons)}; all answered in {checkout_seconds:.1f} s"
            f" ({users / checkout_seconds:.0f} checkouts/s), slowest answer {slowest:.1f} s"
        )
        expected = (min(stock, users), max(0, stock - users), users - min(stock, users), 0)
        if (succeeded, stock_left, credit_sum, failures) != expected:
            raise CommandError("INCONSISTENT: the figures above differ from what they must be")
        say(self.style.SUCCESS("consistent"))
