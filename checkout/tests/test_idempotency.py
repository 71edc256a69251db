"""Idempotency-Key / X-Request-Id: a repeat replays the first response and creates nothing."""

import json
import threading
from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from checkout.idempotency import idempotency_keys_forget
from checkout.models import IdempotentRequest, Saga
from orders.models import Order
from points.models import PointAccount, PointEntry

JSON = "application/json"
ORDER = {"holderId": "jjy", "currencyId": 1, "amount": 500}


def place(client, body: dict, **headers):
    return client.post("/orders", json.dumps(body), content_type=JSON, headers=headers)


@pytest.mark.django_db
def test_a_replayed_key_creates_one_order_and_answers_the_same(client, usd):
    # given
    first = place(client, ORDER, **{"Idempotency-Key": "k-1"})
    # when
    again = place(client, ORDER, **{"Idempotency-Key": "k-1"})
    # then
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["Location"] == first["Location"] == f"/orders/{first.json()['id']}"
    assert again["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1 and Saga.objects.count() == 1


@pytest.mark.django_db
def test_x_request_id_is_a_key_too(client, usd):
    place(client, ORDER, **{"X-Request-Id": "r-1"})
    place(client, ORDER, **{"X-Request-Id": "r-1"})
    assert Order.objects.count() == 1


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_a_422_and_creates_nothing(client, usd):
    # given
    place(client, ORDER, **{"Idempotency-Key": "k-2"})
    # when
    other = place(client, {**ORDER, "amount": 501}, **{"Idempotency-Key": "k-2"})
    # then
    assert other.status_code == 422
    assert "different request body" in other.json()["detail"]
    assert Order.objects.count() == 1


@pytest.mark.django_db
def test_requests_without_a_key_are_not_deduplicated(client, usd):
    place(client, ORDER)
    place(client, ORDER)
    assert Order.objects.count() == 2


@pytest.mark.django_db
def test_a_key_on_another_route_is_another_key(client, usd):
    place(client, ORDER, **{"Idempotency-Key": "shared"})
    deposit = client.post(
        "/points", json.dumps({"userId": "jjy", "point": 5}), content_type=JSON, headers={"Idempotency-Key": "shared"}
    )
    assert deposit.status_code == 201
    assert (Order.objects.count(), PointAccount.objects.get(pk="jjy").balance) == (1, 5)


@pytest.mark.django_db
def test_a_rejected_request_is_not_remembered(client, usd):
    # a 400 creates nothing, so the same key may be used again for the corrected request
    bad = place(client, {"holderId": "jjy", "amount": 0}, **{"Idempotency-Key": "k-3"})
    good = place(client, ORDER, **{"Idempotency-Key": "k-3"})
    assert (bad.status_code, good.status_code) == (400, 201)
    assert Order.objects.count() == 1


@pytest.mark.django_db
def test_an_overlong_key_is_a_400(client, usd):
    response = place(client, ORDER, **{"Idempotency-Key": "k" * 201})
    assert response.status_code == 400
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_wdm_creating_routes_honour_keys(client):
    first = client.post("/wdm/payment/create_user", headers={"Idempotency-Key": "u-1"})
    again = client.post("/wdm/payment/create_user", headers={"Idempotency-Key": "u-1"})
    assert again.json() == first.json()
    assert PointAccount.objects.count() == 1
    user_id = first.json()["user_id"]
    client.post(f"/wdm/payment/add_funds/{user_id}/10", headers={"Idempotency-Key": "f-1"})
    client.post(f"/wdm/payment/add_funds/{user_id}/10", headers={"Idempotency-Key": "f-1"})
    assert PointAccount.objects.get(pk=user_id).balance == 10
    assert PointEntry.objects.filter(account_id=user_id).count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_repeats_create_one_order(live_server, usd, celery_worker):
    # given ten clients sending the same request with the same key at the same moment
    barrier = threading.Barrier(10)
    answers: list[requests.Response] = []

    def send() -> None:
        barrier.wait()
        answers.append(
            requests.post(f"{live_server.url}/orders", json=ORDER, headers={"Idempotency-Key": "race"}, timeout=30)
        )

    threads = [threading.Thread(target=send) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then one order, and every client was told about it
    assert [a.status_code for a in answers] == [201] * 10
    assert len({a.json()["id"] for a in answers}) == 1
    assert Order.objects.count() == 1


@pytest.mark.django_db
def test_keys_older_than_a_day_are_forgotten(client, usd):
    place(client, ORDER, **{"Idempotency-Key": "old"})
    place(client, ORDER, **{"Idempotency-Key": "new"})
    IdempotentRequest.objects.filter(key="old").update(created_at=timezone.now() - timedelta(days=1, seconds=1))
    assert idempotency_keys_forget(older_than=timedelta(days=1)) == 1
    assert list(IdempotentRequest.objects.values_list("key", flat=True)) == ["new"]
