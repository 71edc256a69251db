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


def test_sagas_complete_after_the_workers_connections_were_dropped(usd, celery_worker, settings):
    # given sagas run to their end (every pool process that ran a task holds an open connection),
    # then every one of those connections dropped
    settings.SAGA_DEADLINE_SECONDS = 120  # the retries' backoff, not the deadline, is this test's subject
    points_deposit(user_id="jjy", amount=1_000)
    before = [order_place(holder_id="jjy", lines=[(1, 10)]) for _ in range(4)]
    wait_for(
        lambda: all(Saga.objects.get(order=order).status == "APPROVED" for order in before),
        timeout=60,
        what="the first sagas",
    )
    assert _drop_every_other_connection() >= 1
    # when the next sagas' tasks meet the dropped connections
    after = [order_place(holder_id="jjy", lines=[(1, 20)]) for _ in range(8)]
    # then they fail, are retried on new connections, and every saga ends as if nothing happened
    wait_for(
        lambda: all(Saga.objects.get(order=order).status == "APPROVED" for order in after),
        timeout=120,
        what="the sagas after the drop",
    )
    saga_ids = set(Saga.objects.filter(order__in=after).values_list("pk", flat=True))
    retries = [
        line["message"]
        for line in map(json.loads, (ARTIFACTS / "worker.log").read_text().splitlines())
        if line.get("sagaId") in saga_ids and " retry: " in line["message"]
    ]
    assert retries and all("OperationalError" in message for message in retries)
    assert PointAccount.objects.get(pk="jjy").balance == 1_000 - 4 * 10 - 8 * 20
    for order in after:
        assert list(SagaEvent.objects.filter(order=order).values_list("event_type", flat=True)) == [
            "OrderCreated",
            "ExchangeSucceed",
            "PointUsed",
            "OrderPlaced",
        ]
