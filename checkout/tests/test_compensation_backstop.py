"""Compensations that do not finish are sent again, then flagged for an operator, who retries them."""

from datetime import timedelta

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from checkout.models import OutboxMessage, Saga, SagaEvent
from checkout.services import saga_compensation_retry, saga_sweep_overdue
from conftest import wait_for
from exchanges.models import Currency
from exchanges.services import exchange_apply
from orders.services import order_create
from points.models import PointAccount
from points.services import points_deposit, points_use


def _rejected_attempt_with_both_steps_applied(*, decided_ago: timedelta) -> Saga:
    """A rejected attempt whose compensation message was lost (say, in a Redis restart)."""
    order = order_create(holder_id="jjy", lines=[(1, 500)])
    saga = Saga.objects.create(order=order, deadline_at=timezone.now(), lines=[[1, 500]], cost=500)
    exchange_apply(saga_id=saga.pk, order_id=order.pk, holder_id="jjy", lines=[(1, 500)], cost=500)
    points_use(saga_id=saga.pk, order_id=order.pk, user_id="jjy", amount=500)
    Saga.objects.filter(pk=saga.pk).update(
        status="REJECTED", reason="POINT_LIMIT", version=1, decided_at=timezone.now() - decided_ago
    )
    return saga


def _event_types(saga: Saga) -> list[str]:
    return list(SagaEvent.objects.filter(saga=saga).values_list("event_type", flat=True))


@pytest.fixture
def jjy(usd):
    return points_deposit(user_id="jjy", amount=10_000)


@pytest.mark.django_db
def test_a_stuck_compensation_is_redriven_then_flagged(jjy, settings):
    # given (no worker here: what the sweeper sends is never carried out)
    settings.SAGA_COMPENSATION_REDRIVE_SECONDS = 30
    settings.SAGA_COMPENSATION_MAX_REDRIVES = 2
    saga = _rejected_attempt_with_both_steps_applied(decided_ago=timedelta(seconds=31))
    # when the sweeper runs: first re-drive
    assert saga_sweep_overdue() == 1
    assert saga_sweep_overdue() == 0  # the next one waits 2 x 30 s after this one
    # then
    saga.refresh_from_db()
    assert (saga.compensation_redrives, saga.needs_attention) == (1, False)
    assert OutboxMessage.objects.filter(saga=saga, kind="COMPENSATE").count() == 1
    # when time passes, the second re-drive, then the flag
    Saga.objects.filter(pk=saga.pk).update(compensation_sent_at=timezone.now() - timedelta(seconds=61))
    assert saga_sweep_overdue() == 1
    Saga.objects.filter(pk=saga.pk).update(compensation_sent_at=timezone.now() - timedelta(seconds=91))
    assert saga_sweep_overdue() == 1
    saga.refresh_from_db()
    assert (saga.compensation_redrives, saga.needs_attention) == (2, True)
    assert _event_types(saga) == ["CompensationRedriven", "CompensationRedriven", "CompensationNeedsAttention"]
    assert saga_sweep_overdue() == 0  # flagged attempts wait for an operator


@pytest.mark.django_db
def test_an_operator_retry_is_recorded_once_however_often_it_is_clicked(jjy):
    # given
    saga = _rejected_attempt_with_both_steps_applied(decided_ago=timedelta(minutes=10))
    Saga.objects.filter(pk=saga.pk).update(needs_attention=True, compensation_redrives=3)
    # when
    first = saga_compensation_retry(saga_id=saga.pk, by="alice")
    second = saga_compensation_retry(saga_id=saga.pk, by="alice")
    # then
    assert (first, second) == (True, False)
    saga.refresh_from_db()
    assert (saga.needs_attention, saga.compensation_redrives) == (False, 0)
    retried = SagaEvent.objects.get(saga=saga, event_type="CompensationRetried")
    assert retried.payload == {"by": "alice"}
    assert OutboxMessage.objects.filter(saga=saga, kind="COMPENSATE").count() == 1


@pytest.mark.django_db
def test_the_admin_action_retries_through_the_service(admin_client, jjy):
    saga = _rejected_attempt_with_both_steps_applied(decided_ago=timedelta(minutes=10))
    Saga.objects.filter(pk=saga.pk).update(needs_attention=True)
    url = reverse("admin:checkout_saga_changelist")
    for _ in range(2):  # a double click
        response = admin_client.post(
            url, {"action": "retry_compensation", admin.helpers.ACTION_CHECKBOX_NAME: [saga.pk]}
        )
        assert response.status_code == 302
    assert _event_types(saga) == ["CompensationRetried"]


@pytest.mark.django_db(transaction=True)
def test_a_lost_compensation_is_carried_out_once_redriven(jjy, celery_worker, settings):
    # given a rejected attempt whose compensation never arrived
    settings.SAGA_COMPENSATION_REDRIVE_SECONDS = 1
    saga = _rejected_attempt_with_both_steps_applied(decided_ago=timedelta(seconds=5))
    assert (PointAccount.objects.get(pk="jjy").balance, Currency.objects.get(pk=1).stock) == (9_500, 999_500)
    # when the sweeper re-drives it (the worker carries it out)
    assert saga_sweep_overdue() == 1
    wait_for(lambda: Saga.objects.get(pk=saga.pk).compensated_at, timeout=30, what="the re-driven compensation")
    # then everything is given back, once
    assert (PointAccount.objects.get(pk="jjy").balance, Currency.objects.get(pk=1).stock) == (10_000, 1_000_000)
    assert _event_types(saga) == [
        "CompensationRedriven",
        "PointUseCompensated",
        "ExchangeCompensated",
        "CompensationCompleted",
    ]
