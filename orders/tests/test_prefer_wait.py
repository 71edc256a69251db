"""`POST /orders` with `Prefer: wait=N` (RFC 7240): the order's outcome in the answer, if the saga settles in time.

End to end: the live server places the order, a real worker runs its saga, and the POST's answer
is the order once the attempt is settled (ADR 0004, "Prefer: wait").
"""

import json

import pytest
import requests

from checkout.models import Saga, SagaEvent
from config.prefer import prefer_wait
from conftest import order_settled as settled
from conftest import wait_for

SHORT_DEADLINE = 3  # seconds: currency 100's exchange step then sleeps 8 s, far longer than a 1 s wait


def place(live_server, payload: dict, **headers: str) -> requests.Response:
    return requests.post(f"{live_server.url}/orders", json=payload, headers=headers, timeout=120)


@pytest.fixture
def jjy(api, seed_currencies):
    assert api.post("/points", {"userId": "jjy", "point": "10000"}).status_code == 201


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_an_approved_order_is_answered_in_the_post(live_server, jjy, celery_worker):
    # when
    response = place(live_server, {"holderId": "jjy", "currencyId": 1, "amount": 500}, Prefer="wait=30")
    # then: the order as approved, with the usual 201 and Location
    assert response.status_code == 201, response.text
    order = response.json()
    assert (order["status"], order["statusText"], order["rejectionReason"]) == ("APPROVED", "APPROVED", None)
    assert response.headers["Location"] == f"/orders/{order['id']}"
    assert response.headers["Preference-Applied"] == "wait=30"
    assert requests.get(f"{live_server.url}/points/jjy", timeout=30).json()["point"] == 9500


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_rejected_order_is_answered_in_the_post_once_compensated(live_server, jjy, celery_worker):
    # when more is ordered than jjy has points for
    response = place(live_server, {"holderId": "jjy", "currencyId": 1, "amount": 50000}, Prefer="wait=30")
    # then
    assert response.status_code == 201, response.text
    order = response.json()
    assert (order["status"], order["rejectionReason"], order["statusText"]) == (
        "REJECTED",
        "POINT_LIMIT",
        "REJECTED DUE TO POINT LIMIT",
    )
    assert response.headers["Preference-Applied"] == "wait=30"
    # and settled means compensated: the exchange's step is undone by the time of the answer
    assert Saga.objects.get(order_id=order["id"]).compensated_at is not None
    assert requests.get(f"{live_server.url}/points/jjy", timeout=30).json()["point"] == 10000


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_without_the_header_the_answer_is_pending_as_before(live_server, jjy, celery_worker):
    # when
    response = place(live_server, {"holderId": "jjy", "currencyId": 1, "amount": 500})
    # then
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "PENDING"
    assert "Preference-Applied" not in response.headers
    settled(response.json()["id"])


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_wait_shorter_than_the_saga_answers_pending(live_server, jjy, celery_worker, settings):
    # given: currency 100's exchange step sleeps past the (short) deadline
    settings.SAGA_DEADLINE_SECONDS = SHORT_DEADLINE
    # when
    response = place(live_server, {"holderId": "jjy", "currencyId": 100, "amount": 500}, Prefer="wait=1")
    # then: the order as it is after a second
    assert response.status_code == 201, response.text
    assert (response.json()["status"], response.json()["statusText"]) == ("PENDING", "PENDING")
    assert response.headers["Preference-Applied"] == "wait=1"
    # and the deadline decides it later, as without the header
    assert settled(response.json()["id"]).reason == "DEADLINE"
    expired = SagaEvent.objects.filter(order_id=response.json()["id"], event_type="ExchangeExpired")
    wait_for(expired.exists, timeout=60, what="the slow exchange step to wake up")


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_longer_wait_is_capped_at_the_deadline_and_the_grace(live_server, jjy, celery_worker, settings):
    # when
    response = place(live_server, {"holderId": "jjy", "currencyId": 1, "amount": 500}, Prefer="wait=99999999999999")
    # then
    cap = int(settings.SAGA_DEADLINE_SECONDS + settings.SAGA_WAIT_GRACE_SECONDS)
    assert response.headers["Preference-Applied"] == f"wait={cap}"
    assert response.json()["status"] == "APPROVED"


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_replay_of_a_waited_request_answers_the_same_outcome(live_server, jjy, celery_worker):
    # given: an order placed with a key and a wait
    payload = {"holderId": "jjy", "currencyId": 1, "amount": 500}
    first = place(live_server, payload, Prefer="wait=30", **{"Idempotency-Key": "k-1"})
    assert first.json()["status"] == "APPROVED"
    # when: the same request again, and the same key without the wait
    again = place(live_server, payload, Prefer="wait=30", **{"Idempotency-Key": "k-1"})
    plain = place(live_server, payload, **{"Idempotency-Key": "k-1"})
    # then: the repeat answers what the first did; without the wait, the answer stored when the order was created
    assert (again.status_code, again.json(), again.headers["Idempotent-Replayed"]) == (201, first.json(), "true")
    assert again.headers["Preference-Applied"] == "wait=30"
    assert (plain.status_code, plain.json()["id"], plain.json()["status"]) == (201, first.json()["id"], "PENDING")
    assert "Preference-Applied" not in plain.headers
    # and one order was placed, charged once
    assert requests.get(f"{live_server.url}/points/jjy", timeout=30).json()["point"] == 9500


@pytest.mark.django_db
@pytest.mark.parametrize("prefer", ["wait=soon", "wait=-1", "wait=", "wait=1.5", "respond-async", "wait"])
def test_a_malformed_or_unknown_preference_is_ignored(client, usd, prefer):
    # when
    response = client.post(
        "/orders", json.dumps({"holderId": "jjy", "amount": 500}), content_type="application/json", HTTP_PREFER=prefer
    )
    # then: answered at once, as without the header (RFC 7240: what is not understood is ignored)
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "PENDING"
    assert "Preference-Applied" not in response.headers


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("wait=15", 15),
        ("WAIT = 15", 15),
        ('wait="15"', 15),
        ("respond-async, wait=10", 10),
        ("wait=10; x=y", 10),
        ("wait=10, wait=20", 10),  # only the first counts (RFC 7240, section 2)
        ("wait=007", 7),
        ("wait=0", 0),
        ("wait=" + "9" * 50, 10**9),
        ("wait=soon, wait=10", None),  # the first is malformed: ignored, and so is the second
        ("wait=-1", None),
        ("waiting=10", None),
        ("return=minimal", None),
        ("", None),
        (None, None),
    ],
)
def test_prefer_wait_reads_rfc_7240(header, seconds):
    assert prefer_wait(header) == seconds
