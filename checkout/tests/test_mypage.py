"""The "my page" read model: kept up to date by the logs, equal to a rebuild from them."""

import threading
from io import StringIO

import pytest
import requests
from django.core.management import call_command
from django.db import connection

from checkout.models import Saga
from checkout.mypage import mypage_rebuild
from checkout.selectors import mypage_all
from checkout.services import order_place
from conftest import wait_for
from points.models import PointAccount
from points.services import points_account_create, points_deposit, points_pay

pytestmark = pytest.mark.django_db(transaction=True)


def _pages() -> dict[str, tuple]:
    return {user: (p["balance"], p["orders"], p["exchanges"]) for user, p in mypage_all().items()}


def _settled(*orders) -> bool:
    sagas = Saga.objects.filter(order__in=orders)
    return all(s.status == "APPROVED" or s.compensated_at for s in sagas) and sagas.count() >= len(orders)


@pytest.mark.e2e
def test_my_page_shows_balance_orders_and_exchanges_as_they_happen(client, usd, celery_worker):
    # given
    points_deposit(user_id="jjy", amount=10_000)
    approved = order_place(holder_id="jjy", lines=[(1, 500)])
    rejected = order_place(holder_id="jjy", lines=[(1, 50_000)])
    wait_for(lambda: _settled(approved, rejected), timeout=30, what="both sagas")
    # when
    page = client.get("/my-page/jjy").json()
    # then
    assert page["userId"] == "jjy" and page["balance"] == 9_500
    assert [(o["orderId"], o["status"], o["reason"]) for o in page["orders"]] == [
        (rejected.pk, "REJECTED", "POINT_LIMIT"),
        (approved.pk, "APPROVED", None),
    ]
    assert [(e["orderId"], e["status"], e["point"]) for e in page["exchanges"]] == [
        (rejected.pk, "COMPENSATED", 50_000),
        (approved.pk, "APPLIED", 500),
    ]


@pytest.mark.e2e
def test_the_rebuild_equals_the_live_projection(live_server, usd, celery_worker, batch_init):
    # given real traffic of both dialects: deposits, payments, sagas approved and rejected, retries, batch_init
    points_deposit(user_id="jjy", amount=1_000)
    points_deposit(user_id="kim", amount=100)
    points_pay(user_id="kim", amount=30)
    orders = [
        order_place(holder_id="jjy", lines=[(1, 400)]),
        order_place(holder_id="kim", lines=[(1, 400)]),
        order_place(holder_id="nobody", lines=[(1, 1)]),
    ]
    wdm = f"{live_server.url}/wdm"
    requests.post(f"{wdm}/payment/batch_init/3/50", timeout=30)
    user = requests.post(f"{wdm}/payment/create_user", timeout=30).json()["user_id"]
    item = requests.post(f"{wdm}/stock/item/create/7", timeout=30).json()["item_id"]
    order = requests.post(f"{wdm}/orders/create/{user}", timeout=30).json()["order_id"]
    requests.post(f"{wdm}/orders/addItem/{order}/{item}/2", timeout=30)
    assert requests.post(f"{wdm}/orders/checkout/{order}", timeout=60).status_code == 400  # no stock, no credit
    requests.post(f"{wdm}/stock/add/{item}/5", timeout=30)
    requests.post(f"{wdm}/payment/add_funds/{user}/20", timeout=30)
    assert requests.post(f"{wdm}/orders/checkout/{order}", timeout=60).status_code == 200
    wait_for(lambda: _settled(*orders), timeout=30, what="the seed-dialect sagas")
    live = _pages()
    assert live["kim"][0] == 70 and live["1"][0] == 50 and live[user][0] == 6
    # when
    out = StringIO()
    call_command("mypage_rebuild", stdout=out)
    # then
    assert _pages() == live
    assert f"rebuilt {len(live)} pages" in out.getvalue()


def test_an_unknown_user_has_no_page(client):
    assert client.get("/my-page/nobody").status_code == 404
    assert client.get("/my-page/not%20an%20id").status_code == 404


def test_a_new_account_has_a_page_before_any_points(client):
    # given
    user = points_account_create()
    # when
    page = client.get(f"/my-page/{user.pk}")
    # then
    assert page.status_code == 200
    assert page.json() == {"userId": user.pk, "balance": 0, "orders": [], "exchanges": []}


def test_a_rebuild_during_deposits_loses_none_of_them(usd):
    # given users depositing from several threads while the projection is rebuilt again and again
    users = [f"u{i}" for i in range(4)]
    for user in users:
        points_deposit(user_id=user, amount=1)
    done, deposits = threading.Event(), []

    def deposit(user: str) -> None:
        try:
            while not done.is_set():
                points_deposit(user_id=user, amount=1)
                deposits.append(user)
        finally:
            connection.close()

    threads = [threading.Thread(target=deposit, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    try:
        # when: rebuilds until 100 deposits have been made alongside them
        rebuilds = 0
        while len(deposits) < 100 or rebuilds < 5:
            mypage_rebuild()
            rebuilds += 1
            assert rebuilds < 1000, "the deposits did not run alongside the rebuilds"
    finally:
        done.set()
        for thread in threads:
            thread.join()
    # then every deposit is on its page: the live pages equal the accounts and a fresh rebuild
    live = _pages()
    balances = dict(PointAccount.objects.values_list("user_id", "balance"))
    assert {user: live[user][0] for user in users} == {user: balances[user] for user in users}
    assert sum(balances[user] for user in users) == len(users) + len(deposits)
    mypage_rebuild()
    assert _pages() == live
