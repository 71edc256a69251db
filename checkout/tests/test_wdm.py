"""The checkout dialect over HTTP, against the live server and the real worker (seed 004's suite)."""

import threading
from collections import Counter

import pytest
import requests

from checkout.models import Saga, SagaEvent

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]


class Wdm:
    """Seed 004's client: every value in the path, JSON back."""

    def __init__(self, base_url: str) -> None:
        self.base = f"{base_url}/wdm"

    def post(self, path: str) -> requests.Response:
        return requests.post(f"{self.base}/{path}", timeout=60)

    def get(self, path: str) -> requests.Response:
        return requests.get(f"{self.base}/{path}", timeout=60)

    def new_item(self, price: int, stock: int = 0) -> str:
        item_id = self.post(f"stock/item/create/{price}").json()["item_id"]
        if stock:
            assert self.post(f"stock/add/{item_id}/{stock}").status_code == 200
        return item_id

    def new_user(self, credit: int = 0) -> str:
        user_id = self.post("payment/create_user").json()["user_id"]
        if credit:
            assert self.post(f"payment/add_funds/{user_id}/{credit}").status_code == 200
        return user_id

    def stock(self, item_id: str) -> int:
        return self.get(f"stock/find/{item_id}").json()["stock"]

    def credit(self, user_id: str) -> int:
        return self.get(f"payment/find_user/{user_id}").json()["credit"]


@pytest.fixture
def wdm(live_server) -> Wdm:
    return Wdm(live_server.url)


def test_items_are_created_found_added_and_subtracted(wdm):
    # given
    response = wdm.post("stock/item/create/7")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    item_id = response.json()["item_id"]
    assert isinstance(item_id, str)
    assert wdm.get(f"stock/find/{item_id}").json() == {"stock": 0, "price": 7}
    # when
    added = wdm.post(f"stock/add/{item_id}/10")
    subtracted = wdm.post(f"stock/subtract/{item_id}/4")
    too_much = wdm.post(f"stock/subtract/{item_id}/7")
    # then
    assert (added.status_code, added.json()["stock"]) == (200, 10)
    assert (subtracted.status_code, subtracted.json()["stock"]) == (200, 6)
    assert too_much.status_code == 400
    assert too_much.json()["error"] == "OUT_OF_STOCK"
    assert wdm.get(f"stock/find/{item_id}").json() == {"stock": 6, "price": 7}


def test_users_are_created_found_funded_and_pay(wdm):
    # given
    user_id = wdm.post("payment/create_user").json()["user_id"]
    assert wdm.get(f"payment/find_user/{user_id}").json() == {"user_id": user_id, "credit": 0}
    # when
    funded = wdm.post(f"payment/add_funds/{user_id}/15")
    paid = wdm.post(f"payment/pay/{user_id}/10")
    overpaid = wdm.post(f"payment/pay/{user_id}/6")
    # then
    assert (funded.status_code, funded.json()) == (200, {"user_id": user_id, "credit": 15})
    assert (paid.status_code, paid.json()) == (200, {"user_id": user_id, "credit": 5})
    assert overpaid.status_code == 400
    assert overpaid.json()["error"] == "POINT_LIMIT"
    assert wdm.credit(user_id) == 5


def test_unknown_ids_and_bad_values_are_4xx(wdm):
    user_id = wdm.new_user()
    item_id = wdm.new_item(price=1)
    assert wdm.get("payment/find_user/nobody").status_code == 404
    assert wdm.post("payment/add_funds/nobody/5").status_code == 404
    assert wdm.get("stock/find/999999").status_code == 404
    assert wdm.get("stock/find/abc").status_code == 404
    assert wdm.get("orders/find/999999").status_code == 404
    assert wdm.post("orders/checkout/999999").status_code == 404
    assert wdm.post(f"payment/add_funds/{user_id}/-5").status_code == 400
    assert wdm.post(f"payment/add_funds/{user_id}/abc").status_code == 400
    assert wdm.post(f"stock/add/{item_id}/1.5").status_code == 400
    assert wdm.post("stock/item/create/-1").status_code == 400
    order_id = wdm.post(f"orders/create/{user_id}").json()["order_id"]
    assert wdm.post(f"orders/addItem/{order_id}/{item_id}/0").status_code == 400
    assert wdm.post(f"orders/addItem/{order_id}/999999/1").status_code == 404
    assert wdm.get(f"orders/find/{order_id}").json()["items"] == []
    assert wdm.credit(user_id) == 0


def test_a_rejected_order_is_checked_out_again_until_it_is_paid_once(wdm, celery_worker):
    # given an order of 2 x A (price 5) and 1 x B (price 3), B out of stock, a user without credit
    user_id = wdm.new_user(credit=0)
    item_a = wdm.new_item(price=5, stock=10)
    item_b = wdm.new_item(price=3, stock=0)
    order_id = wdm.post(f"orders/create/{user_id}").json()["order_id"]
    assert wdm.post(f"orders/addItem/{order_id}/{item_a}/2").json()["total_cost"] == 10
    assert wdm.post(f"orders/addItem/{order_id}/{item_b}/1").json()["total_cost"] == 13
    assert wdm.get(f"orders/find/{order_id}").json() == {
        "order_id": order_id,
        "paid": False,
        "items": [[item_a, 2], [item_b, 1]],
        "user_id": user_id,
        "total_cost": 13,
    }

    # when the second item is out of stock
    first = wdm.post(f"orders/checkout/{order_id}")
    # then the answer comes after the rollback: the first item's stock is untouched right away
    assert first.status_code == 400
    assert (first.json()["error"], first.json()["attempt"]) == ("OUT_OF_STOCK", 1)
    assert (wdm.stock(item_a), wdm.stock(item_b), wdm.credit(user_id)) == (10, 0, 0)
    attempt_1 = Saga.objects.get(order_id=int(order_id), attempt=1)
    assert list(SagaEvent.objects.filter(saga=attempt_1).values_list("event_type", flat=True)) == [
        "CheckoutStarted",
        "ExchangeFailed",
        "OrderRejected",
        "CompensationCompleted",  # the first step failed: the points step never started, nothing to undo
    ]

    # when the stock is there but the credit is not
    wdm.post(f"stock/add/{item_b}/5")
    second = wdm.post(f"orders/checkout/{order_id}")
    # then
    assert second.status_code == 400
    assert (second.json()["error"], second.json()["attempt"]) == ("POINT_LIMIT", 2)
    assert (wdm.stock(item_a), wdm.stock(item_b), wdm.credit(user_id)) == (10, 5, 0)

    # when the credit is there too
    wdm.post(f"payment/add_funds/{user_id}/20")
    third = wdm.post(f"orders/checkout/{order_id}")
    # then it is paid, with exact stock and credit
    assert (third.status_code, third.json()) == (200, {"order_id": order_id, "paid": True, "attempt": 3})
    assert (wdm.stock(item_a), wdm.stock(item_b), wdm.credit(user_id)) == (8, 4, 7)
    assert wdm.get(f"orders/find/{order_id}").json()["paid"] is True

    # when the paid order is checked out again
    again = wdm.post(f"orders/checkout/{order_id}")
    # then 200, and nothing changes
    assert (again.status_code, again.json()) == (200, {"order_id": order_id, "paid": True, "attempt": 3})
    assert (wdm.stock(item_a), wdm.stock(item_b), wdm.credit(user_id)) == (8, 4, 7)
    assert Saga.objects.filter(order_id=int(order_id)).count() == 3
    assert wdm.post(f"orders/addItem/{order_id}/{item_a}/1").status_code == 400
    assert wdm.get(f"orders/find/{order_id}").json()["total_cost"] == 13


def test_concurrent_checkouts_of_one_order_share_one_attempt_and_charge_once(wdm, celery_worker):
    # given
    user_id = wdm.new_user(credit=10)
    item_id = wdm.new_item(price=10, stock=5)
    order_id = wdm.post(f"orders/create/{user_id}").json()["order_id"]
    wdm.post(f"orders/addItem/{order_id}/{item_id}/1")
    barrier = threading.Barrier(10)
    answers: list[requests.Response] = []

    def checkout() -> None:
        barrier.wait()
        answers.append(wdm.post(f"orders/checkout/{order_id}"))

    # when ten clients check the same order out at once
    threads = [threading.Thread(target=checkout) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then all ten are told it is paid, and it was paid once
    assert [a.status_code for a in answers] == [200] * 10
    assert {a.json()["attempt"] for a in answers} == {1}
    assert (wdm.credit(user_id), wdm.stock(item_id)) == (0, 4)
    assert Saga.objects.filter(order_id=int(order_id)).count() == 1


def test_rejection_reasons_name_unknown_users_unknown_items_and_the_deadline(
    wdm, seed_currencies, celery_worker, settings, batch_init
):
    # an unknown user (orders are created for any id, as in seed 004)
    item_id = wdm.new_item(price=1, stock=5)
    order_id = wdm.post("orders/create/no-such-user").json()["order_id"]
    wdm.post(f"orders/addItem/{order_id}/{item_id}/1")
    unknown_user = wdm.post(f"orders/checkout/{order_id}")
    assert (unknown_user.status_code, unknown_user.json()["error"]) == (400, "UNKNOWN_ACCOUNT")
    assert wdm.stock(item_id) == 5

    # an unknown item: batch_init may create orders before their items
    assert wdm.post("payment/batch_init/3/100").status_code == 200
    assert wdm.post("orders/batch_init/3/1000000/3/1").status_code == 200  # of items that do not exist
    unknown_item = wdm.post("orders/checkout/0")
    assert (unknown_item.status_code, unknown_item.json()["error"]) == (400, "UNKNOWN_ITEM")

    # the deadline: currency 100 is seed 000's slow one (the worker runs the seed fault profile)
    settings.SAGA_DEADLINE_SECONDS = 3
    user_id = wdm.new_user(credit=10)
    order_id = wdm.post(f"orders/create/{user_id}").json()["order_id"]
    wdm.post(f"orders/addItem/{order_id}/100/1")
    late = wdm.post(f"orders/checkout/{order_id}")
    assert (late.status_code, late.json()["error"]) == (400, "DEADLINE")
    assert wdm.credit(user_id) == 10
    events = list(SagaEvent.objects.filter(order_id=int(order_id)).values_list("event_type", flat=True))
    assert events[:4] == ["OrderCreated", "CheckoutStarted", "DeadlineReached", "OrderRejected"]


def test_batch_init_creates_or_overwrites_ids_and_later_ids_do_not_collide(wdm, batch_init):
    # when
    assert wdm.post("payment/batch_init/5/100").json() == {"msg": "Batch init for users successful"}
    assert wdm.post("stock/batch_init/5/50/3").json() == {"msg": "Batch init for stock successful"}
    assert wdm.post("orders/batch_init/5/5/5/3").json() == {"msg": "Batch init for orders successful"}
    wdm.post("payment/pay/4/30")
    assert wdm.post("payment/batch_init/5/200").status_code == 200  # overwrite
    # then
    assert wdm.get("payment/find_user/4").json() == {"user_id": "4", "credit": 200}
    assert wdm.get("stock/find/4").json() == {"stock": 50, "price": 3}
    order = wdm.get("orders/find/4").json()
    assert (order["order_id"], order["paid"], order["total_cost"], len(order["items"])) == ("4", False, 6, 2)
    assert all(0 <= int(item) < 5 and quantity == 1 for item, quantity in order["items"])
    assert 0 <= int(order["user_id"]) < 5
    assert int(wdm.post("stock/item/create/1").json()["item_id"]) >= 5
    assert int(wdm.post("orders/create/4").json()["order_id"]) >= 5
    assert wdm.post("payment/create_user").json()["user_id"] not in {str(i) for i in range(5)}


def test_an_order_paid_then_overwritten_by_batch_init_is_charged_again_when_checked_out(wdm, celery_worker, batch_init):
    """Seed 004's consistency test run twice on one stack: the second run's orders are new orders."""

    def init() -> None:
        assert wdm.post("payment/batch_init/1/100").status_code == 200
        assert wdm.post("stock/batch_init/1/10/3").status_code == 200
        assert wdm.post("orders/batch_init/1/1/1/3").status_code == 200

    init()
    first = wdm.post("orders/checkout/0")
    assert (first.status_code, first.json()["paid"], wdm.credit("0"), wdm.stock("0")) == (200, True, 94, 8)
    # when
    init()
    second = wdm.post("orders/checkout/0")
    # then
    assert (second.status_code, second.json()["paid"], second.json()["attempt"]) == (200, True, 2)
    assert (wdm.credit("0"), wdm.stock("0")) == (94, 8)
    assert wdm.get("orders/find/0").json()["paid"] is True
    assert list(Saga.objects.filter(order_id=0).values_list("attempt", "status")) == [(1, "APPROVED"), (2, "APPROVED")]


def test_batch_init_of_one_id_on_an_empty_table_is_served_and_later_ids_follow(wdm, batch_init):
    # when: only id 0 is written (a sequence cannot be set to 0)
    paths = ("payment/batch_init/1/100", "stock/batch_init/1/10/3", "orders/batch_init/1/1/1/3")
    answers = [wdm.post(path).status_code for path in paths]
    # then
    assert answers == [200, 200, 200]
    assert wdm.post("stock/item/create/1").json()["item_id"] == "1"
    assert int(wdm.post("orders/create/0").json()["order_id"]) == 1


def test_an_order_without_items_is_paid_at_once_and_takes_nothing(wdm, celery_worker):
    """Found by the schema fuzzer: the exchange step had no item to lock, its SQL (`IN ()`) failed, and the
    checkout answered only when its deadline had passed."""
    # given
    user_id = wdm.new_user(credit=5)
    order_id = wdm.post(f"orders/create/{user_id}").json()["order_id"]
    # when
    answer = wdm.post(f"orders/checkout/{order_id}")
    # then
    assert (answer.status_code, answer.json()) == (200, {"order_id": order_id, "paid": True, "attempt": 1})
    assert wdm.credit(user_id) == 5
    assert wdm.get(f"orders/find/{order_id}").json()["paid"] is True


def test_wdm_routes_take_no_trailing_slash_and_no_csrf_token(wdm):
    # a POST without any cookie or token is served (seed 004's clients send none)
    assert wdm.post("payment/create_user").status_code == 200
    assert wdm.post("payment/create_user/").status_code == 404
    assert wdm.get("payment/create_user").status_code == 405
    assert Counter(type(v) for v in wdm.get("stock/find/" + wdm.new_item(price=2)).json().values()) == {int: 2}


def test_the_consistency_run_passes_against_the_live_stack(live_server, celery_worker, settings):
    """The command anyone can run against `make run`, here against the test server and worker."""
    from io import StringIO

    from django.core.management import call_command

    settings.SAGA_DEADLINE_SECONDS = 60  # throughput, not the deadline, is this run's subject
    out = StringIO()
    call_command("wdm_consistency", url=f"{live_server.url}/wdm", stdout=out)
    print("\n" + out.getvalue())
    assert "succeeded checkouts: 100 (expected 100)" in out.getvalue()
    assert out.getvalue().rstrip().endswith("consistent")
