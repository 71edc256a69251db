"""Workers do not ping PostgreSQL before each task (ADR 0008): a connection that broke is replaced by the retry."""

import json

import pytest
from django.db import connection

from checkout.models import Saga, SagaEvent
from checkout.services import order_place
from conftest import ARTIFACTS, wait_for
from points.models import PointAccount
from points.services import points_deposit

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]


def _drop_every_other_connection() -> int:
    """What a PostgreSQL restart or a proxy's idle timeout does to the workers' connections."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def test_a_saga_completes_after_the_workers_connections_were_dropped(usd, celery_worker, settings):
    # given a saga run to its end (the worker's processes hold open connections), then every one of them dropped
    settings.SAGA_DEADLINE_SECONDS = 120  # the retries' backoff, not the deadline, is this test's subject
    points_deposit(user_id="jjy", amount=1_000)
    first = order_place(holder_id="jjy", lines=[(1, 100)])
    wait_for(lambda: Saga.objects.get(order=first).status == "APPROVED", timeout=60, what="the first saga")
    assert _drop_every_other_connection() >= 1
    # when the next saga's tasks meet the dropped connections
    second = order_place(holder_id="jjy", lines=[(1, 200)])
    # then they fail, are retried on a new connection, and the saga ends as if nothing happened
    wait_for(lambda: Saga.objects.get(order=second).status == "APPROVED", timeout=90, what="the second saga")
    saga_id = Saga.objects.get(order=second).pk
    retries = [
        line["message"]
        for line in map(json.loads, (ARTIFACTS / "worker.log").read_text().splitlines())
        if line.get("sagaId") == saga_id and " retry: " in line["message"]
    ]
    assert retries and all("OperationalError" in message for message in retries)
    assert PointAccount.objects.get(pk="jjy").balance == 700
    assert list(SagaEvent.objects.filter(order=second).values_list("event_type", flat=True)) == [
        "OrderCreated",
        "ExchangeSucceed",
        "PointUsed",
        "OrderPlaced",
    ]
