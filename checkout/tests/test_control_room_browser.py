"""The control room in a real browser: an operator finds a stuck order, reads its timeline, retries, twice.

Playwright drives Debian's Chromium against the live server while a real Celery worker runs
the sagas; the points service is taken down (its queue is not consumed) so that an order's
compensation cannot finish, as in seed 000's "compensation with downtime".
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from checkout.models import Saga, SagaEvent
from checkout.services import order_place, saga_compensation_redrive
from config.celery import app
from config.tests.browser import admin_login, screenshot
from conftest import wait_for
from points.services import points_deposit

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]


def _types(saga: Saga) -> list[str]:
    return list(SagaEvent.objects.filter(saga=saga).order_by("timestamp", "id").values_list("event_type", flat=True))


def _settled(saga: Saga) -> bool:
    saga.refresh_from_db()
    return saga.status == "APPROVED" or bool(saga.compensated_at)


def test_an_operator_finds_a_stuck_order_reads_its_timeline_and_retries_it_once(
    page, live_server, usd, celery_worker, settings
):
    # given a day's traffic: an approved order and one rejected for points, both settled
    points_deposit(user_id="jjy", amount=10_000)
    points_deposit(user_id="kim", amount=100)
    approved = order_place(holder_id="jjy", lines=[(1, 500)]).sagas.get()
    short = order_place(holder_id="kim", lines=[(1, 500)]).sagas.get()
    wait_for(lambda: _settled(approved) and _settled(short), timeout=60, what="the first two sagas")
    # and an order placed while the points service is down: its deadline rejects it, and its
    # compensation (points first) cannot run; played here as a points service that takes each
    # compensation and hangs, so that the sweeper's re-drives give up and flag it
    app.control.cancel_consumer("points", destination=[celery_worker], reply=True)
    try:
        settings.SAGA_DEADLINE_SECONDS = 3  # this order's subject is its deadline
        stuck = order_place(holder_id="jjy", lines=[(1, 300)]).sagas.get()
        wait_for(
            lambda: Saga.objects.get(pk=stuck.pk).status == "REJECTED",
            timeout=settings.SAGA_DEADLINE_SECONDS + 60,
            what="the deadline to reject the stuck order",
        )
        for _ in range(settings.SAGA_COMPENSATION_MAX_REDRIVES + 1):
            Saga.objects.filter(pk=stuck.pk).update(compensation_started_at=timezone.now() - timedelta(hours=1))
            saga_compensation_redrive(saga_id=stuck.pk)
        stuck.refresh_from_db()
        assert stuck.needs_attention and stuck.compensated_at is None
        before = _types(stuck)
        assert before[-1] == "CompensationNeedsAttention"

        # when the operator logs in and opens the dashboard
        admin_login(page, live_server)
        page.click("#saga-nav >> text=Dashboard")
        # then the stuck order is the first thing asking for attention
        attention = page.locator("#needs-attention")
        expect(attention).to_contain_text("Compensation stuck")
        expect(page.locator("#last-hour")).to_contain_text("POINT_LIMIT")
        expect(page.locator("#latest")).to_contain_text("APPROVED")
        screenshot(page, "dashboard")

        # when they open it
        attention.get_by_role("link", name=f"order {stuck.order_id}").click()
        # then its timeline shows the deadline and every event, each in its service's lane
        timeline = page.locator(f".saga-attempt[data-saga-id='{stuck.pk}']")
        expect(timeline.locator(".saga-deadline")).to_be_visible()
        expect(timeline.locator(".saga-deadline")).to_contain_text("deadline +")  # one, on the axis
        for event_type in set(before):
            expect(timeline.locator(f".saga-event[data-event-type='{event_type}']")).to_have_count(
                before.count(event_type)
            )
        expect(timeline.locator(".saga-summary")).to_contain_text("needs an operator")
        screenshot(page, "order-page-needs-attention")

        # when they click "Retry compensation", and again in a second tab opened before (a double click, a colleague)
        stale = page.context.new_page()
        stale.goto(page.url)
        timeline.locator("button.saga-retry").click()
        expect(page.locator(".messagelist")).to_contain_text("Compensation sent again")
        stale.locator(f".saga-attempt[data-saga-id='{stuck.pk}'] button.saga-retry").click()
        expect(stale.locator(".messagelist")).to_contain_text("Nothing to do")
        stale.close()
        # then one new event, with their name
        assert _types(stuck)[len(before) :] == ["CompensationRetried"]
        assert SagaEvent.objects.get(saga=stuck, event_type="CompensationRetried").payload == {"by": "alice"}
        page.reload()
        expect(page.locator(".saga-event[data-event-type='CompensationRetried']")).to_have_count(1)
        expect(page.locator("button.saga-retry")).to_have_count(0)
    finally:
        app.control.add_consumer("points", destination=[celery_worker], reply=True)

    # when the points service is back, the retried compensation runs through
    wait_for(lambda: _settled(stuck), timeout=60, what="the retried compensation")
    page.reload()
    timeline = page.locator(f".saga-attempt[data-saga-id='{stuck.pk}']")
    expect(timeline.locator(".saga-summary")).to_contain_text("every step undone")
    expect(timeline.locator(".saga-event[data-event-type='CompensationCompleted']")).to_have_count(1)
    screenshot(page, "order-page")

    # and the API's documentation is a click away
    page.click("#saga-nav >> text=API docs")
    expect(page.locator(".swagger-ui")).to_be_visible()
    expect(page.get_by_text("/orders/{id}/events").first).to_be_visible()
