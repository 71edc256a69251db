"""The deadline benchmark and report commands, against the real worker."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from checkout.models import Saga
from config.celery import app
from conftest import wait_quiet

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]


def test_the_deadline_benchmark_measures_every_order_and_restores_the_exchange_consumer(celery_worker):
    # when
    out = StringIO()
    call_command("saga_bench_deadline", orders=5, deadline=1, stdout=out)
    # then every order ended by its deadline, fired by the countdown
    assert Saga.objects.filter(status="REJECTED", reason="DEADLINE").count() == 5
    assert "deadline lateness over 5 orders" in out.getvalue()
    print("\n" + out.getvalue())
    consumed = app.control.inspect(destination=[celery_worker], timeout=2).active_queues()[celery_worker]
    assert "exchanges" in {queue["name"] for queue in consumed}
    # and the report reads the same events
    report = StringIO()
    call_command("saga_deadline_report", stdout=report)
    figures = json.loads(report.getvalue())
    assert figures["count"] == 5
    assert sum(figures["firedBy"].values()) == 5
    wait_quiet(celery_worker)  # the late exchange steps and compensations drain before the next test
