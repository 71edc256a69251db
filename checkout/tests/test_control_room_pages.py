"""The control room's pages in a real browser at 1400x900: an order's timeline for an approved, a
compensated and a deadline-rejected order, the lists, and a dashboard that refreshes in place.

The sagas are driven by calling the services in this process (no worker), then retimed to what a
real run looks like (steps a few ms apart, a 3 s or 10 s deadline): the drawing is about time. Each
test leaves a full-page screenshot in test-artifacts/screenshots/.
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

import checkout.outbox
from checkout.models import Saga, SagaEvent
from checkout.services import (
    order_place,
    saga_approve,
    saga_compensation_finish,
    saga_deadline,
    saga_step_apply,
    saga_step_compensate,
)
from config.tests.browser import admin_login, screenshot
from orders.models import Order
from points.services import points_deposit

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def no_publish(monkeypatch):
    """Placed orders are driven here, step by step: nothing is sent to a worker."""
    monkeypatch.setattr(checkout.outbox, "publish_after_commit", lambda message_id: None)


def _retime(order: Order, offsets: list[int], *, deadline_ms: int, late: list[tuple[int, str, str]] = ()) -> Saga:
    """Put the attempt's events at these ms since its start (in their order), and add `late` ones."""
    saga = order.sagas.get()
    start = timezone.now() - timedelta(minutes=2)
    events = list(SagaEvent.objects.filter(saga=saga).order_by("timestamp", "id"))
    assert len(events) == len(offsets), [e.event_type for e in events]
    at = {}
    for event, ms in zip(events, offsets, strict=True):
        SagaEvent.objects.filter(pk=event.pk).update(timestamp=start + timedelta(milliseconds=ms))
        at[event.event_type] = start + timedelta(milliseconds=ms)
    for ms, event_type, service in late:
        SagaEvent.objects.create(
            order=order, saga=saga, event_type=event_type, service=service, timestamp=start + timedelta(milliseconds=ms)
        )
    Saga.objects.filter(pk=saga.pk).update(
        created_at=start,
        deadline_at=start + timedelta(milliseconds=deadline_ms),
        decided_at=at.get("OrderPlaced") or at.get("OrderRejected"),
        compensated_at=at.get("CompensationCompleted"),
    )
    Order.objects.filter(pk=order.pk).update(created_at=start, deadline_at=start + timedelta(milliseconds=deadline_ms))
    return saga


def _compensate(saga: Saga) -> None:
    for service in ("points", "exchanges"):
        saga_step_compensate(saga_id=saga.pk, service=service)
    saga_compensation_finish(saga_id=saga.pk)


@pytest.fixture
def orders(usd) -> dict[str, Order]:
    points_deposit(user_id="jjy", amount=10_000)
    points_deposit(user_id="kim", amount=100)
    # approved: both steps within 33 ms of a 10 s deadline
    approved = order_place(holder_id="jjy", lines=[(1, 500)])
    for service in ("exchanges", "points"):
        saga_step_apply(saga_id=approved.sagas.get().pk, service=service)
    assert saga_approve(saga_id=approved.sagas.get().pk) == "APPROVED"
    _retime(approved, [0, 12, 25, 33], deadline_ms=10_000)
    # compensated: the points are short, the exchange is undone
    compensated = order_place(holder_id="kim", lines=[(1, 500)])
    saga = compensated.sagas.get()
    saga_step_apply(saga_id=saga.pk, service="exchanges")
    saga_step_apply(saga_id=saga.pk, service="points")
    saga_step_compensate(saga_id=saga.pk, service="exchanges")
    saga_compensation_finish(saga_id=saga.pk)
    _retime(compensated, [0, 14, 27, 28, 290, 312], deadline_ms=10_000)
    # deadline-rejected: seed 000's quiz; the exchange step arrives 2 s late and is refused by its tombstone
    quiz = order_place(holder_id="jjy", lines=[(1, 300)])
    saga = quiz.sagas.get()
    Saga.objects.filter(pk=saga.pk).update(deadline_at=timezone.now())
    assert saga_deadline(saga_id=saga.pk) == "REJECTED"
    _compensate(saga)
    _retime(quiz, [0, 3004, 3005, 3009, 3011, 3013], deadline_ms=3000, late=[(5012, "ExchangeRefused", "exchanges")])
    # one more, flagged for an operator, for the lists
    stuck = order_place(holder_id="lee", lines=[(1, 5)])
    Saga.objects.filter(pk=stuck.sagas.get().pk).update(deadline_at=timezone.now())
    saga_deadline(saga_id=stuck.sagas.get().pk)
    Saga.objects.filter(order=stuck).update(needs_attention=True)
    return {"approved": approved, "compensated": compensated, "deadline": quiz, "stuck": stuck}


def _dots(page: Page) -> list[dict]:
    """Each dot's box on the screen, in the order they are drawn."""
    return page.locator(".saga-dot circle").evaluate_all(
        "dots => dots.map(d => d.getBoundingClientRect()).map(r => ({x: r.x, y: r.y, w: r.width, h: r.height}))"
    )


@pytest.mark.parametrize("case", ["approved", "compensated", "deadline"])
def test_an_orders_page_draws_one_axis_with_one_deadline_and_every_event_visible(page, live_server, orders, case):
    # given
    order = orders[case]
    events = list(SagaEvent.objects.filter(order=order).order_by("timestamp", "id"))
    admin_login(page, live_server)
    # when
    page.goto(f"{live_server.url}/admin/orders/order/{order.pk}/change/")
    # then one deadline marker, every event a dot and a row
    chart = page.locator(".saga-attempt .saga-chart")
    expect(chart).to_be_visible()
    expect(page.locator(".saga-deadline")).to_have_count(1)
    expect(page.locator(".saga-dot")).to_have_count(len(events))
    expect(page.locator("tr.saga-event")).to_have_count(len(events))
    # no two dots overlap on the screen
    boxes = _dots(page)
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            apart = abs(a["x"] - b["x"]) >= a["w"] - 0.5 or abs(a["y"] - b["y"]) >= a["h"] - 0.5
            assert apart, (a, b)
    # the chart fits the page: no horizontal scrolling at 1400 px
    assert page.evaluate("document.documentElement.scrollWidth") <= 1400
    # times to the millisecond
    expect(page.locator("tr.saga-event .saga-time").first).to_have_text("+0.000 s")
    expect(page.locator(".saga-summary")).to_contain_text(".")
    if case != "deadline":
        expect(page.locator(".saga-break text")).to_have_count(1)
    else:
        expect(page.locator(".saga-break text")).to_have_text(["⋯ 3.000 s ⋯", "⋯ 1.999 s ⋯"])
        refused = page.locator("tr.saga-event[data-event-type='ExchangeRefused']")
        expect(refused).to_have_class("saga-event tone-refused after-deadline")
        expect(page.locator(".saga-key")).to_contain_text("late work turned away")
    screenshot(page, f"order-page-{case}")


def test_the_lists_fit_1400_px_and_only_a_yes_stands_out(page, live_server, orders):
    admin_login(page, live_server)
    for name, path in (("orders-list", "/admin/orders/order/"), ("attempts-list", "/admin/checkout/saga/")):
        # when
        page.goto(live_server.url + path)
        # then every column is in the window
        expect(page.locator("#result_list")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 1400, name
        right = page.locator("#result_list").evaluate("t => t.getBoundingClientRect().right")
        assert right <= 1400, name
        # nor cut by the list's own scrolling box
        results = page.locator("#changelist .results")
        widths = "r => [r.scrollWidth, r.clientWidth, [...r.querySelectorAll('thead th')].map(t => t.offsetWidth)]"
        assert results.evaluate("r => r.scrollWidth <= r.clientWidth"), (name, results.evaluate(widths))
        # and "needs attention" says yes for the one flagged order, and nothing (no red cross) for the rest
        expect(page.locator("#result_list tbody tr")).to_have_count(4)
        expect(page.locator("#result_list .saga-attention-flag")).to_have_count(1)
        expect(page.locator("#result_list .saga-attention-flag")).to_have_text("⚠ yes")
        expect(page.locator("#result_list img[src*='icon-no']")).to_have_count(0)
        expect(page.locator("#result_list")).not_to_contain_text("p.m.")
        expect(page.locator("#result_list")).not_to_contain_text("a.m.")
        screenshot(page, name)


def test_the_dashboard_refreshes_its_figures_without_reloading_the_page(page, live_server, orders, usd):
    # given the dashboard, and a marker that a page load would wipe
    admin_login(page, live_server)
    page.goto(f"{live_server.url}/admin/dashboard/")
    approved = page.locator("#last-hour .saga-figure.ok b")
    expect(approved).to_have_text("1")
    page.evaluate("window.sagaMarker = 'still here'")
    navigations = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    # when another order is approved
    points_deposit(user_id="kim", amount=10_000)
    order = order_place(holder_id="kim", lines=[(1, 5)])
    for service in ("exchanges", "points"):
        saga_step_apply(saga_id=order.sagas.get().pk, service=service)
    assert saga_approve(saga_id=order.sagas.get().pk) == "APPROVED"
    # then the figure changes in place
    expect(approved).to_have_text("2")
    expect(page.locator("#latest")).to_contain_text(str(order.pk))
    assert page.evaluate("window.sagaMarker") == "still here"
    assert navigations == []
    expect(page.locator("meta[http-equiv=refresh]")).to_have_count(0)
    screenshot(page, "dashboard-refreshed-in-place")
