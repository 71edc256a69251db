"""saga_audit finds every kind of violation, and none after real sagas ran."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from checkout.audit import audit
from checkout.models import Saga, SagaEvent
from checkout.services import order_place
from conftest import wait_for
from exchanges.models import Currency
from orders.models import Order
from points.models import PointAccount, PointEntry, PointUse
from points.services import points_deposit


def _invariants() -> set[str]:
    return {violation.invariant for violation in audit(settle=timedelta(seconds=5))}


@pytest.fixture
def settled_world(usd, celery_worker):
    """Real sagas, run by the real worker: one approved, one rejected for its points (and compensated)."""
    points_deposit(user_id="jjy", amount=10_000)
    approved = order_place(holder_id="jjy", lines=[(1, 500)])
    rejected = order_place(holder_id="jjy", lines=[(1, 50_000)])
    wait_for(
        lambda: (
            Saga.objects.filter(order=approved, status="APPROVED").exists()
            and Saga.objects.filter(order=rejected, compensated_at__isnull=False).exists()
        ),
        timeout=30,
        what="both sagas to settle",
    )
    return approved, rejected


pytestmark = pytest.mark.django_db(transaction=True)


def test_real_sagas_leave_no_violation(settled_world):
    out = StringIO()
    call_command("saga_audit", stdout=out)
    assert "no violation" in out.getvalue()


def test_a_balance_that_differs_from_its_ledger(settled_world):
    PointAccount.objects.filter(pk="jjy").update(balance=9_000)
    assert _invariants() == {"points conserved"}


def test_a_debit_missing_from_the_ledger(settled_world):
    approved, _ = settled_world
    PointEntry.objects.filter(saga_id=Saga.objects.get(order=approved).pk, kind="USE").delete()
    assert "points conserved" in _invariants()


def test_stock_that_differs_from_its_ledger(settled_world):
    Currency.objects.filter(pk=1).update(stock=1)
    assert _invariants() == {"stock conserved"}


def test_an_approved_attempt_whose_step_was_compensated(settled_world):
    approved, _ = settled_world
    PointUse.objects.filter(order_id=approved.pk).update(status="COMPENSATED")
    assert "one terminal state per attempt" in _invariants()


def test_two_outcomes_logged_for_one_attempt(settled_world):
    approved, _ = settled_world
    saga = Saga.objects.get(order=approved)
    SagaEvent.objects.create(
        order=approved, saga=saga, event_type="OrderRejected", service="orders", timestamp=timezone.now()
    )
    assert _invariants() == {"one terminal state per attempt"}


def test_an_order_that_does_not_mirror_its_attempt(settled_world):
    approved, _ = settled_world
    Order.objects.filter(pk=approved.pk).update(status="REJECTED", rejection_reason="DEADLINE")
    assert _invariants() == {"one terminal state per attempt"}


def test_a_pending_attempt_long_past_its_deadline(settled_world):
    order = Order.objects.create(holder_id="jjy", status="PENDING")
    Saga.objects.create(order=order, deadline_at=timezone.now() - timedelta(minutes=1))
    assert _invariants() == {"no PENDING past its deadline"}


def test_a_rejection_never_compensated(settled_world):
    _, rejected = settled_world
    Saga.objects.filter(order=rejected).update(compensated_at=None, decided_at=timezone.now() - timedelta(minutes=1))
    assert "no unfinished compensation" in _invariants()


def test_the_command_prints_each_violation_with_its_orders_events_and_fails(settled_world):
    approved, _ = settled_world
    Order.objects.filter(pk=approved.pk).update(status="REJECTED", rejection_reason="DEADLINE")
    out = StringIO()
    with pytest.raises(CommandError, match="1 violation"):
        call_command("saga_audit", stdout=out)
    assert f"(order {approved.pk})" in out.getvalue()
    assert '"eventType": "OrderPlaced"' in out.getvalue()
