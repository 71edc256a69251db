"""Compensations that ran and did not finish are sent again, then flagged for an operator, who retries them.

A compensation that only waits in a queue (a backlog) is left alone: it is sent again only
once it waited longer than a message can (it was lost), and that never counts toward the
flag (ADR 0009).
"""

from datetime import timedelta

import pytest
from django.contrib import admin
from django.db import OperationalError
from django.urls import reverse
from django.utils import timezone

from checkout.models import OutboxMessage, Saga, SagaEvent
from checkout.services import (
    saga_compensation_finish,
    saga_compensation_redrive,
    saga_compensation_retry,
    saga_reject,
    saga_step_compensate,
    saga_sweep_overdue,
)
from conftest import wait_for
from exchanges.models import Currency
from exchanges.services import exchange_apply
from orders.services import order_create
from points.models import PointAccount
from points.services import points_deposit, points_use


def _rejected_attempt_with_both_steps_applied(*, decided_ago: timedelta, started: bool = False) -> Saga:
    """A rejected attempt whose compensation was sent when it was decided and has not finished.

    Unless `started`, it never started: its message was lost (say, in a Redis restart) or
    still waits in a queue. With `started`, it began right then and stalled (a participant
    that keeps failing, a worker that hangs).
    """
    order = order_create(holder_id="jjy", lines=[(1, 500)])
    saga = Saga.objects.create(order=order, deadline_at=timezone.now(), lines=[[1, 500]], cost=500)
    exchange_apply(saga_id=saga.pk, order_id=order.pk, holder_id="jjy", lines=[(1, 500)], cost=500)
    points_use(saga_id=saga.pk, order_id=order.pk, user_id="jjy", amount=500)
    decided_at = timezone.now() - decided_ago
    Saga.objects.filter(pk=saga.pk).update(
        status="REJECTED",
        reason="POINT_LIMIT",
        version=1,
        decided_at=decided_at,
        compensation_sent_at=decided_at,
        compensation_started_at=decided_at if started else None,
    )
    return saga


def _ran_and_stalled(saga: Saga, *, ago: timedelta) -> None:
    """The compensation last sent started `ago` and has not finished."""
    Saga.objects.filter(pk=saga.pk).update(compensation_started_at=timezone.now() - ago)


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
    saga = _rejected_attempt_with_both_steps_applied(decided_ago=timedelta(seconds=31), started=True)
    # when the sweeper runs: first re-drive
    assert saga_sweep_overdue() == 1
    assert saga_sweep_overdue() == 0  # the next one waits 2 x 30 s after this one
    # then
    saga.refresh_from_db()
    assert (saga.compensation_redrives, saga.needs_attention) == (1, False)
    assert OutboxMessage.objects.filter(saga=saga, kind="COMPENSATE").count() == 1
    # when time passes, the second re-drive, then the flag
    _ran_and_stalled(saga, ago=timedelta(seconds=61))
    assert saga_sweep_overdue() == 1
    _ran_and_stalled(saga, ago=timedelta(seconds=91))
    assert saga_sweep_overdue() == 1
    saga.refresh_from_db()
    assert (saga.compensation_redrives, saga.needs_attention) == (2, True)
    assert _event_types(saga) == ["CompensationRedriven", "CompensationRedriven", "CompensationNeedsAttention"]
    assert saga_sweep_overdue() == 0  # flagged attempts wait for an operator


@pytest.mark.django_db
def test_a_compensation_still_queued_is_never_redriven_nor_flagged(jjy, settings):
    # given a compensation sent 5 minutes ago that waits behind a backlog (never started)
    settings.SAGA_COMPENSATION_REDRIVE_SECONDS = 30
    settings.SAGA_COMPENSATION_MAX_REDRIVES = 3
    settings.SAGA_COMPENSATION_LOST_SECONDS = 600
    saga = _rejected_attempt_with_both_steps_applied(decided_ago=timedelta(minutes=5))
    # when the sweeper runs, again and again
    swept = [saga_sweep_overdue() for _ in range(5)]
    # then nothing more is sent, nothing is counted, nothing flagged
    assert swept == [0, 0, 0, 0, 0]
    saga.refresh_from_db()
    assert (saga.compensation_redrives, saga.needs_attention) == (0, False)
    assert OutboxMessage.objects.filter(saga=saga).count() == 0
    assert _event_types(saga) == []


@pytest.mark.django_db
def test_a_compensation_queued_longer_than_a_message_can_wait_is_sent_again_and_never_counted(jjy, settings):
    # given a compensation sent longer ago than the broker keeps a message waiting
    settings.SAGA_COMPENSATION_MAX_REDRIVES = 2
    settings.SAGA_COMPENSATION_LOST_SECONDS = 600
    saga = _rejected_attempt_with_both_steps_applied(decided_ago=timedelta(seconds=601))
    # when the sweeper runs twice
    first, second = saga_sweep_overdue(), saga_sweep_overdue()
    # then it is sent again once (the new message waits its turn), as lost, not counted
    assert (first, second) == (1, 0)
    assert OutboxMessage.objects.filter(saga=saga, kind="COMPENSATE").count() == 1
    redriven = SagaEvent.objects.get(saga=saga, event_type="CompensationRedriven")
    assert redriven.payload == {"cause": "lost"}
    # when it is lost again and again, more often than the re-drives an attempt gets
    for _ in range(3):
        Saga.objects.filter(pk=saga.pk).update(compensation_sent_at=timezone.now() - timedelta(seconds=601))
        assert saga_sweep_overdue() == 1
    # then it was sent every time and never flagged: it never ran, so it never failed
    saga.refresh_from_db()
    assert (saga.compensation_redrives, saga.needs_attention) == (0, False)
    assert _event_types(saga) == ["CompensationRedriven"] * 4
    assert OutboxMessage.objects.filter(saga=saga, kind="COMPENSATE").count() == 4


@pytest.mark.django_db
def test_a_stall_is_counted_from_when_the_compensation_started_not_from_when_it_was_sent(jjy, settings):
    # given a compensation that waited 5 minutes in a queue and started 10 s ago
    settings.SAGA_COMPENSATION_REDRIVE_SECONDS = 30
    saga = _rejected_attempt_with_both_steps_applied(decided_ago=timedelta(minutes=5))
    _ran_and_stalled(saga, ago=timedelta(seconds=10))
    # when / then it is still within its time
    assert saga_sweep_overdue() == 0
    # when it has run 31 s without finishing
    _ran_and_stalled(saga, ago=timedelta(seconds=31))
    # then it is sent again, counted
    assert saga_sweep_overdue() == 1
    saga.refresh_from_db()
    assert (saga.compensation_redrives, saga.compensation_started_at) == (1, None)
    redriven = SagaEvent.objects.get(saga=saga, event_type="CompensationRedriven")
    assert redriven.payload == {"redrive": 1, "cause": "stalled"}


def _pending_attempt_with_both_steps_applied() -> Saga:
    order = order_create(holder_id="jjy", lines=[(1, 500)])
    saga = Saga.objects.create(
        order=order, deadline_at=timezone.now() + timedelta(minutes=5), lines=[[1, 500]], cost=500
    )
    exchange_apply(saga_id=saga.pk, order_id=order.pk, holder_id="jjy", lines=[(1, 500)], cost=500)
    points_use(saga_id=saga.pk, order_id=order.pk, user_id="jjy", amount=500)
    return saga


@pytest.mark.django_db
def test_a_compensation_that_ran_and_failed_is_redriven_once_it_stalled(jjy, settings, monkeypatch):
    # given a rejection, and a points service that fails every compensation
    settings.SAGA_COMPENSATION_REDRIVE_SECONDS = 30
    saga = _pending_attempt_with_both_steps_applied()
    assert saga_reject(saga_id=saga.pk, reason="POINT_LIMIT") == "REJECTED"
    saga.refresh_from_db()
    assert (saga.compensation_sent_at is not None, saga.compensation_started_at) == (True, None)

    def broken(**kwargs):
        raise OperationalError("the points database is gone")

    monkeypatch.setattr("points.services.points_use_compensate", broken)
    # when its compensation runs and fails
    with pytest.raises(OperationalError):
        saga_step_compensate(saga_id=saga.pk, service="points")
    # then it is known to have started, and it is not re-driven while within its time
    saga.refresh_from_db()
    assert saga.compensation_started_at is not None
    assert saga_sweep_overdue() == 0
    # when 31 s pass since it started
    _ran_and_stalled(saga, ago=timedelta(seconds=31))
    # then it is sent again, and counts
    assert saga_sweep_overdue() == 1
    saga.refresh_from_db()
    assert (saga.compensation_redrives, saga.needs_attention) == (1, False)
    assert _event_types(saga)[-1] == "CompensationRedriven"


@pytest.mark.django_db
def test_a_finished_compensation_hands_on_and_the_next_one_waits_its_turn_unredriven(jjy, settings):
    # given a rejection whose points compensation has run and finished
    settings.SAGA_COMPENSATION_REDRIVE_SECONDS = 30
    settings.SAGA_COMPENSATION_LOST_SECONDS = 600
    saga = _pending_attempt_with_both_steps_applied()
    assert saga_reject(saga_id=saga.pk, reason="POINT_LIMIT") == "REJECTED"
    assert saga_step_compensate(saga_id=saga.pk, service="points") == "COMPENSATED"
    saga.refresh_from_db()
    handed_on = saga.compensation_sent_at
    assert (saga.compensation_started_at, handed_on > saga.decided_at) == (None, True)
    # when the exchange compensation then waits 5 minutes in a backlog
    Saga.objects.filter(pk=saga.pk).update(compensation_sent_at=timezone.now() - timedelta(minutes=5))
    # then the sweeper leaves it alone
    assert saga_sweep_overdue() == 0
    assert _event_types(saga)[-1] == "PointUseCompensated"
    # when it runs, and the chain's last link marks the end
    assert saga_step_compensate(saga_id=saga.pk, service="exchanges") == "COMPENSATED"
    assert saga_compensation_finish(saga_id=saga.pk) == "COMPENSATED"
    # then
    saga.refresh_from_db()
    assert (saga.compensated_at is not None, saga.compensation_redrives) == (True, 0)
    assert "CompensationRedriven" not in _event_types(saga)


@pytest.mark.django_db
def test_a_redrive_is_not_sent_again_while_the_first_one_waits(jjy, settings):
    # given a compensation that ran 31 s ago and stalled
    settings.SAGA_COMPENSATION_REDRIVE_SECONDS = 30
    saga = _rejected_attempt_with_both_steps_applied(decided_ago=timedelta(seconds=31), started=True)
    # when it is re-driven twice in a row (a sweep that read it before the first re-drive, say)
    first = saga_compensation_redrive(saga_id=saga.pk)
    second = saga_compensation_redrive(saga_id=saga.pk)
    # then the second finds the re-driven compensation waiting in its queue, and sends nothing
    assert (first, second) == ("REDRIVEN", "SKIPPED")
    assert OutboxMessage.objects.filter(saga=saga, kind="COMPENSATE").count() == 1
    assert _event_types(saga) == ["CompensationRedriven"]


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
    # given a rejected attempt whose compensation never arrived (sent longer ago than a message waits)
    settings.SAGA_COMPENSATION_LOST_SECONDS = 1
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
