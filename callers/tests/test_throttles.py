"""Each caller's share (ADR 0012): over its route class's limit, 429 with Retry-After, in both dialects,
counted in Redis so that every web process shares the count."""

import pytest
import requests
from rest_framework.test import APIClient

from callers.models import Scope, ServiceKey
from callers.throttles import parse_rate
from checkout.locks import redis_client
from conftest import gunicorn_serving
from points.models import PointAccount


@pytest.fixture(autouse=True)
def fresh_counts():
    """Counts of earlier tests (same client address, same window) do not spill into these."""
    keys = list(redis_client().scan_iter("throttle:*"))
    if keys:
        redis_client().delete(*keys)


def key_client(*scopes: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Api-Key " + ServiceKey.objects.create_key(name="t", scopes=list(scopes))[1])
    return client


def test_over_its_limit_a_caller_gets_429_with_retry_after_and_nothing_is_done(db, settings):
    # given: 3 money moves a day per caller (a day: no window boundary falls inside the test)
    settings.SAGA_API_MODE = "protected"
    settings.SAGA_THROTTLE_RATES = {**settings.SAGA_THROTTLE_RATES, "money": "3/day"}
    service, other = key_client(Scope.POINTS_MINT, Scope.READ), key_client(Scope.POINTS_MINT)
    # when
    answers = [service.post("/points", {"userId": "alice", "point": 5}, format="json") for _ in range(4)]
    over = service.post("/wdm/payment/add_funds/alice/5")
    # then: the 4th and the /wdm one (same class, same caller) are refused, and deposited nothing
    assert [answer.status_code for answer in answers] == [201, 201, 201, 429]
    assert over.status_code == 429
    for refused in (answers[3], over):
        assert 1 <= int(refused.headers["Retry-After"]) <= 86400
        assert "throttled" in refused.json()["detail"]
    assert PointAccount.objects.get(pk="alice").balance == 15
    # while another caller, and this caller's reads, have their own counts
    assert other.post("/points", {"userId": "bob", "point": 5}, format="json").status_code == 201
    assert service.get("/points/alice").status_code == 200


def test_the_open_mode_counts_per_client_address(db, settings):
    settings.SAGA_THROTTLE_RATES = {**settings.SAGA_THROTTLE_RATES, "manage": "2/day"}
    client = APIClient()
    statuses = [client.post("/wdm/stock/item/create/1", REMOTE_ADDR="10.0.0.7").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert client.post("/wdm/stock/item/create/1", REMOTE_ADDR="10.0.0.8").status_code == 200


def test_throttles_can_be_turned_off(db, settings):
    settings.SAGA_THROTTLE = False
    settings.SAGA_THROTTLE_RATES = {**settings.SAGA_THROTTLE_RATES, "manage": "1/day"}
    assert [APIClient().post("/wdm/stock/item/create/1").status_code for _ in range(3)] == [200, 200, 200]


@pytest.mark.parametrize(("rate", "parsed"), [("600/min", (600, 60)), ("5/s", (5, 1)), ("100/hour", (100, 3600))])
def test_rates_are_spelled_as_drf_spells_them(rate, parsed):
    assert parse_rate(rate) == parsed


def test_a_rate_that_does_not_parse_stops_the_start(settings):
    from callers.checks import open_modes

    settings.SAGA_THROTTLE_RATES = {**settings.SAGA_THROTTLE_RATES, "read": "lots"}
    assert [error.id for error in open_modes()] == ["callers.E004"]


@pytest.mark.e2e
def test_in_gunicorn_two_web_processes_share_one_count(transactional_db, tmp_path):
    # given: two web processes as the Procfile runs them, on one Redis, 10 reads a day per caller
    with (
        gunicorn_serving(tmp_path / "a.log", threads=2, SAGA_THROTTLE_READ="10/day") as first,
        gunicorn_serving(tmp_path / "b.log", threads=2, SAGA_THROTTLE_READ="10/day") as second,
    ):
        # when: the same caller (this address) reads 6 times from each
        answers = [
            requests.get(f"http://127.0.0.1:{port}/currencies", timeout=30) for port in [first] * 6 + [second] * 6
        ]
    # then: 10 were served in all, the first process's 6 and the second's first 4; the rest are 429
    statuses = [answer.status_code for answer in answers]
    assert statuses == [200] * 10 + [429] * 2, statuses
    assert all(1 <= int(answer.headers["Retry-After"]) <= 86400 for answer in answers[10:])
    assert all("throttled" in answer.json()["detail"] for answer in answers[10:])
