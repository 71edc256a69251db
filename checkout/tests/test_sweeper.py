"""The beat sweeper rejects an attempt whose deadline passed without its countdown firing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from checkout.models import Saga, SagaEvent
from checkout.services import saga_sweep_overdue
from conftest import wait_for
from orders.models import Order
from orders.services import order_create

pytestmark = pytest.mark.django_db(transaction=True)


def _attempt(deadline_in: timedelta) -> Saga:
    """An attempt whose messages were never sent: no chain, no countdown (as if lost)."""
    order = order_create(holder_id="lost", lines=[(1, 5)])
    return Saga.objects.create(order=order, deadline_at=timezone.now() + deadline_in)


def test_the_sweeper_rejects_overdue_attempts_and_leaves_the_others(usd, celery_worker, settings):
    # given one attempt past deadline + grace, one past its deadline but within the grace, one not yet due
    settings.SAGA_SWEEP_GRACE_SECONDS = 1.0
    overdue = _attempt(timedelta(seconds=-5))
    in_grace = _attempt(timedelta(seconds=-0.2))
    not_due = _attempt(timedelta(minutes=5))
    # when
    swept = saga_sweep_overdue()
    # then
    assert swept == 1
    assert Saga.objects.get(pk=overdue.pk).status == "REJECTED"
    assert Order.objects.get(pk=overdue.order_id).status_text == "REJECTED DUE TO DEADLINE"
    reached = SagaEvent.objects.get(saga=overdue, event_type="DeadlineReached")
    assert reached.payload["firedBy"] == "sweeper"
    assert reached.payload["latenessMs"] >= 5000
    assert Saga.objects.get(pk=in_grace.pk).status == "PENDING"
    assert Saga.objects.get(pk=not_due.pk).status == "PENDING"
    wait_for(lambda: Saga.objects.get(pk=overdue.pk).compensated_at, timeout=60, what="compensations to run")
    assert sorted(SagaEvent.objects.filter(saga=overdue).values_list("event_type", flat=True)) == sorted(
        ["DeadlineReached", "OrderRejected", "PointUseCancelled", "ExchangeCancelled", "CompensationCompleted"]
    )
