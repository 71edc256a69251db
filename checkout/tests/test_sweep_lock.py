"""Sweeps never run in parallel: one that finds another running returns at once (ADR 0009).

Real threads on PostgreSQL and Redis: the first sweep is held inside its work until the
second one has come and gone, so the interleaving is certain, not hoped for.
"""

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from checkout import outbox, services
from checkout.models import OutboxMessage, Saga
from checkout.outbox import outbox_relay
from checkout.services import saga_sweep_overdue
from orders.services import order_create

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def nothing_reaches_the_broker(monkeypatch):
    """No worker here: what the sweeps decide is committed, and sent nowhere."""
    monkeypatch.setattr(outbox, "_send", lambda message: None)


def _hold_the_first_sweep_inside(monkeypatch, target: object, name: str) -> tuple[threading.Event, threading.Event]:
    """Make `target.name`, called inside a sweep's work, wait in the sweeping thread until released."""
    inside, release = threading.Event(), threading.Event()
    work = getattr(target, name)
    main = threading.main_thread()

    def held(*args, **kwargs):
        if threading.current_thread() is not main:
            inside.set()
            assert release.wait(timeout=60), "the test never released the first sweep"
        return work(*args, **kwargs)

    monkeypatch.setattr(target, name, held)
    return inside, release


def _sweep_twice_at_once(sweep: Callable[[], int | None], inside: threading.Event, release: threading.Event):
    """Run `sweep` in a thread; while it is inside its work, run it again here. Return both results."""
    first: list[int | None] = []

    def run() -> None:
        try:
            first.append(sweep())
        finally:
            release.set()
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    try:
        assert inside.wait(timeout=60), "the first sweep never reached its work"
        second = sweep()
    finally:
        release.set()
        thread.join()
    return first[0], second


def test_a_sweep_that_finds_another_running_returns_at_once(monkeypatch, usd):
    # given an attempt past its deadline, and a sweep held inside its work on it
    order = order_create(holder_id="lost", lines=[(1, 5)])
    saga = Saga.objects.create(order=order, deadline_at=timezone.now() - timedelta(minutes=1))
    inside, release = _hold_the_first_sweep_inside(monkeypatch, services, "saga_deadline")
    # when a second sweep runs meanwhile
    first, second = _sweep_twice_at_once(saga_sweep_overdue, inside, release)
    # then the second skipped (None) and the first did the work, once
    assert (first, second) == (1, None)
    assert Saga.objects.get(pk=saga.pk).status == "REJECTED"
    # and once the first is done, the lock is free again
    assert saga_sweep_overdue() == 0


def test_a_relay_that_finds_another_running_returns_at_once(monkeypatch, usd):
    # given a message the fast path never published, and a relay held inside its work on it
    order = order_create(holder_id="lost", lines=[(1, 5)])
    saga = Saga.objects.create(order=order, deadline_at=timezone.now() + timedelta(minutes=5))
    message = OutboxMessage.objects.create(saga=saga, kind="START")
    inside, release = _hold_the_first_sweep_inside(monkeypatch, outbox, "outbox_publish")
    # when a second relay runs meanwhile
    first, second = _sweep_twice_at_once(lambda: outbox_relay(older_than_seconds=0), inside, release)
    # then the second skipped (None) and the first published the message, once
    assert (first, second) == (1, None)
    message.refresh_from_db()
    assert (message.published_at is not None, message.publish_count) == (True, 1)
    # and once the first is done, the lock is free again
    assert outbox_relay(older_than_seconds=0) == 0
