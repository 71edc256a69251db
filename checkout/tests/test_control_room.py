"""The admin as the control room (ADR 0007): timelines, dashboard, and operators' actions through the services.

Sagas here are driven by calling the services in this process, step by step, as the
tasks would; plain `django_db` tests never commit, so nothing is published to a worker.
"""

import re
from datetime import timedelta

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission, User
from django.urls import reverse
from django.utils import timezone

from checkout.models import OutboxMessage, Saga, SagaEvent
from checkout.selectors import saga_dashboard
from checkout.services import (
    order_place,
    order_start_empty,
    saga_approve,
    saga_compensation_finish,
    saga_deadline,
    saga_force_reject,
    saga_step_apply,
    saga_step_compensate,
)
from checkout.timeline import order_timeline
from exchanges.models import Currency
from orders.models import Order
from points.models import PointAccount
from points.services import points_deposit

pytestmark = pytest.mark.django_db


def _types(saga: Saga) -> list[str]:
    return list(SagaEvent.objects.filter(saga=saga).order_by("timestamp", "id").values_list("event_type", flat=True))


def _compensate(saga: Saga) -> None:
    """What the compensation chain's tasks do, in order."""
    for service in ("points", "exchanges"):
        saga_step_compensate(saga_id=saga.pk, service=service)
    saga_compensation_finish(saga_id=saga.pk)


@pytest.fixture
def point_limit_order(usd) -> Order:
    """Seed 000's "compensation with point limit": the exchange applies, points fail, the exchange is undone."""
    points_deposit(user_id="jjy", amount=100)
    order = order_place(holder_id="jjy", lines=[(1, 500)])
    saga = order.sagas.get()
    saga_step_apply(saga_id=saga.pk, service="exchanges")
    saga_step_apply(saga_id=saga.pk, service="points")
    saga_step_compensate(saga_id=saga.pk, service="exchanges")
    saga_compensation_finish(saga_id=saga.pk)
    return order


@pytest.fixture
def deadline_order(usd) -> Order:
    """An attempt whose deadline passed after its exchange applied: rejected by the deadline, then compensated."""
    points_deposit(user_id="jjy", amount=10_000)
    order = order_place(holder_id="jjy", lines=[(1, 500)])
    saga = order.sagas.get()
    saga_step_apply(saga_id=saga.pk, service="exchanges")
    Saga.objects.filter(pk=saga.pk).update(deadline_at=timezone.now())
    assert saga_deadline(saga_id=saga.pk) == "REJECTED"
    _compensate(saga)
    return order


# --- The timeline ----------------------------------------------------------------------------


def test_a_timeline_puts_each_event_in_its_services_lane_in_time_order(point_limit_order):
    # when
    [timeline], loose = order_timeline(point_limit_order.pk)
    # then
    assert [(e.number, e.event_type, e.service, e.tone) for e in timeline.events] == [
        (1, "OrderCreated", "orders", "neutral"),
        (2, "ExchangeSucceed", "exchanges", "applied"),
        (3, "PointUseFailed", "points", "rejected"),
        (4, "OrderRejected", "orders", "rejected"),
        (5, "ExchangeCompensated", "exchanges", "undone"),
        (6, "CompensationCompleted", "checkout", "undone"),
    ]
    assert [e.lane for e in timeline.events] == [0, 1, 2, 0, 1, 3]
    # one axis, left to right in time, the deadline (never reached) after every event
    xs = [e.x for e in timeline.events]
    assert xs == sorted(xs) and len(set(xs)) == len(xs)
    assert timeline.deadline_x > xs[-1]
    assert all(not e.after_deadline for e in timeline.events)
    offsets = [e.offset_ms for e in timeline.events]
    assert offsets == sorted(offsets) and offsets[0] >= 0
    assert timeline.started_at == point_limit_order.sagas.get().created_at  # offsets count from the attempt's start
    assert loose == []
    assert timeline.summary.startswith("rejected due to point limit")
    assert "every step undone" in timeline.summary


def test_the_deadline_falls_between_the_events_before_and_after_it(deadline_order):
    [timeline], _ = order_timeline(deadline_order.pk)
    before = [e.event_type for e in timeline.events if not e.after_deadline]
    after = [e.event_type for e in timeline.events if e.after_deadline]
    assert before == ["OrderCreated", "ExchangeSucceed"]
    assert after == [
        "DeadlineReached",
        "OrderRejected",
        "PointUseCancelled",
        "ExchangeCompensated",
        "CompensationCompleted",
    ]
    assert timeline.before_deadline == 2
    xs = [e.x for e in timeline.events]
    assert xs[1] < timeline.deadline_x < xs[2]


def test_the_order_page_draws_the_timeline_with_its_deadline_and_every_event(admin_client, deadline_order):
    # when
    page = admin_client.get(reverse("admin:orders_order_change", args=[deadline_order.pk]))
    # then
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="saga-timeline"' in html
    assert html.count('class="saga-deadline"') == 1  # one deadline marker, on the chart's axis
    saga = deadline_order.sagas.get()
    for event_type in _types(saga):
        # a dot on the chart and a row of the table, each
        assert html.count(f'data-event-type="{event_type}"') == 2 * _types(saga).count(event_type)
    assert "rejected due to deadline" in html
    assert "left to right" in html and "top to bottom" not in html


def test_an_order_not_checked_out_yet_says_so(admin_client, usd):
    order = order_start_empty(holder_id="jjy")
    page = admin_client.get(reverse("admin:orders_order_change", args=[order.pk]))
    assert page.status_code == 200
    assert "has not been checked out yet" in page.content.decode()
    assert "OrderCreated at" in page.content.decode()


# --- Force reject ------------------------------------------------------------------------------


def test_force_reject_is_the_deadlines_transition_with_the_operators_name(usd):
    # given an attempt whose exchange applied and whose points step has not run
    points_deposit(user_id="jjy", amount=10_000)
    order = order_place(holder_id="jjy", lines=[(1, 500)])
    saga = order.sagas.get()
    saga_step_apply(saga_id=saga.pk, service="exchanges")
    # when an operator forces a rejection, twice
    first = saga_force_reject(saga_id=saga.pk, by="alice")
    second = saga_force_reject(saga_id=saga.pk, by="alice")
    # then one rejection, recorded with the name, and every step is sent its compensation
    assert (first, second) == (True, False)
    saga.refresh_from_db()
    order.refresh_from_db()
    assert (saga.status, saga.reason, order.status_text) == ("REJECTED", "OPERATOR", "REJECTED DUE TO OPERATOR")
    rejected = SagaEvent.objects.get(saga=saga, event_type="OrderRejected")
    assert (rejected.payload["reason"], rejected.payload["by"]) == ("OPERATOR", "alice")
    [message] = OutboxMessage.objects.filter(saga=saga, kind="COMPENSATE")
    assert message.payload == {"steps": ["exchanges", "points"]}
    # when the compensations run, and the points step arrives late
    _compensate(saga)
    assert saga_step_apply(saga_id=saga.pk, service="points").summary == "SKIPPED (saga REJECTED)"
    # then everything is as before the order
    assert PointAccount.objects.get(pk="jjy").balance == 10_000
    assert Currency.objects.get(pk=1).stock == 1_000_000
    assert _types(saga) == [
        "OrderCreated",
        "ExchangeSucceed",
        "OrderRejected",
        "PointUseCancelled",
        "ExchangeCompensated",
        "CompensationCompleted",
    ]


def test_force_reject_leaves_a_decided_attempt_alone(point_limit_order):
    saga = point_limit_order.sagas.get()
    before = _types(saga)
    assert saga_force_reject(saga_id=saga.pk, by="alice") is False
    saga.refresh_from_db()
    assert (saga.status, saga.reason, _types(saga)) == ("REJECTED", "POINT_LIMIT", before)


# --- The order page's buttons and the actions ------------------------------------------------------


def _steer(client, order: Order, saga: Saga, action: str):
    return client.post(
        reverse("admin:orders_order_steer", args=[order.pk]), {"saga": saga.pk, "action": action}, follow=True
    )


def test_the_order_page_offers_force_reject_while_pending_and_a_double_click_rejects_once(admin_client, usd):
    # given
    points_deposit(user_id="jjy", amount=10_000)
    order = order_place(holder_id="jjy", lines=[(1, 500)])
    saga = order.sagas.get()
    page = admin_client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert "Force reject" in page and "Retry compensation" not in page
    # when
    first = _steer(admin_client, order, saga, "force_reject")
    second = _steer(admin_client, order, saga, "force_reject")
    # then
    assert [str(m) for m in first.context["messages"]] == [
        f"Rejected (every step is being undone): attempt(s) {saga.pk}. Recorded as done by admin."
    ]
    [skipped] = [str(m) for m in second.context["messages"]]
    assert skipped.startswith(f"Nothing to do for attempt(s) {saga.pk}: not PENDING any more")
    assert _types(saga).count("OrderRejected") == 1
    assert SagaEvent.objects.get(saga=saga, event_type="OrderRejected").payload["by"] == "admin"
    assert "Force reject" not in second.content.decode()


def test_retry_compensation_from_the_order_page_twice_records_one_event(admin_client, deadline_order):
    # given an attempt flagged for an operator
    saga = deadline_order.sagas.get()
    Saga.objects.filter(pk=saga.pk).update(compensated_at=None, needs_attention=True)
    before = len(_types(saga))
    assert (
        "Retry compensation"
        in admin_client.get(reverse("admin:orders_order_change", args=[deadline_order.pk])).content.decode()
    )
    # when
    _steer(admin_client, deadline_order, saga, "retry_compensation")
    _steer(admin_client, deadline_order, saga, "retry_compensation")
    # then
    assert _types(saga)[before:] == ["CompensationRetried"]
    assert SagaEvent.objects.get(saga=saga, event_type="CompensationRetried").payload == {"by": "admin"}


def test_steering_needs_the_permission(client, deadline_order):
    # given staff who may look at orders but not change attempts
    viewer = User.objects.create_user("viewer", password="pw", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_order"))
    client.force_login(viewer)
    saga = deadline_order.sagas.get()
    Saga.objects.filter(pk=saga.pk).update(compensated_at=None, needs_attention=True)
    # when
    page = client.get(reverse("admin:orders_order_change", args=[deadline_order.pk]))
    response = _steer(client, deadline_order, saga, "retry_compensation")
    # then
    assert page.status_code == 200 and "Retry compensation" not in page.content.decode()
    assert response.status_code == 403
    assert "CompensationRetried" not in _types(saga)


@pytest.mark.parametrize(
    "data", [{"saga": "1", "action": "delete"}, {"saga": "x", "action": "force_reject"}, {"action": "force_reject"}]
)
def test_a_bad_steering_request_changes_nothing(admin_client, point_limit_order, data):
    before = SagaEvent.objects.count()
    response = admin_client.post(reverse("admin:orders_order_steer", args=[point_limit_order.pk]), data, follow=True)
    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]] == ["Unknown action or attempt."]
    assert SagaEvent.objects.count() == before


def test_an_attempt_of_another_order_is_refused(admin_client, point_limit_order, deadline_order):
    other = deadline_order.sagas.get()
    response = _steer(admin_client, point_limit_order, other, "force_reject")
    assert [str(m) for m in response.context["messages"]] == [
        f"Attempt {other.pk} is not an attempt of order {point_limit_order.pk}."
    ]


def test_steering_is_post_only(admin_client, point_limit_order):
    assert admin_client.get(reverse("admin:orders_order_steer", args=[point_limit_order.pk])).status_code == 405


def test_the_force_reject_action_on_the_order_list(admin_client, usd, point_limit_order):
    points_deposit(user_id="kim", amount=10_000)
    pending = order_place(holder_id="kim", lines=[(1, 5)])
    url = reverse("admin:orders_order_changelist")
    for _ in range(2):  # a double click
        admin_client.post(
            url, {"action": "force_reject", admin.helpers.ACTION_CHECKBOX_NAME: [pending.pk, point_limit_order.pk]}
        )
    pending.refresh_from_db()
    assert (pending.status, pending.rejection_reason) == ("REJECTED", "OPERATOR")
    assert SagaEvent.objects.filter(order=pending, event_type="OrderRejected").count() == 1
    assert point_limit_order.sagas.get().reason == "POINT_LIMIT"


# --- Lists ---------------------------------------------------------------------------------------------


def test_lists_filter_by_age_and_search_by_holder_or_order_id(admin_client, point_limit_order, usd):
    # given an old order next to today's
    old = order_place(holder_id="kim", lines=[(1, 5)])
    Order.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=3))
    url = reverse("admin:orders_order_changelist")
    # then
    assert [o.pk for o in admin_client.get(url, {"age": "1h"}).context["cl"].result_list] == [point_limit_order.pk]
    assert [o.pk for o in admin_client.get(url, {"age": "older"}).context["cl"].result_list] == [old.pk]
    assert [o.pk for o in admin_client.get(url, {"q": "kim"}).context["cl"].result_list] == [old.pk]
    assert [o.pk for o in admin_client.get(url, {"q": str(old.pk)}).context["cl"].result_list] == [old.pk]
    sagas = reverse("admin:checkout_saga_changelist")
    assert admin_client.get(sagas, {"age": "5m", "q": "jjy"}).context["cl"].result_count == 1


def test_the_lists_attention_column_flags_a_yes_and_leaves_a_no_blank(admin_client, point_limit_order, usd):
    # given one attempt flagged for an operator beside one that is not
    flagged = order_place(holder_id="lee", lines=[(1, 1)])
    assert saga_force_reject(saga_id=flagged.sagas.get().pk, by="alice")
    Saga.objects.filter(order=flagged).update(needs_attention=True)
    for url in (reverse("admin:orders_order_changelist"), reverse("admin:checkout_saga_changelist")):
        # when
        html = admin_client.get(url).content.decode()
        # then a "yes" stands out once, and a "no" is no red cross (nor any mark)
        assert html.count('<span class="saga-attention-flag">⚠ yes</span>') == 1, url
        assert "icon-no.svg" not in html and "icon-yes.svg" not in html, url
        assert re.search(r'<td class="field-attention">(&nbsp;)?</td>', html), url  # blank


def test_the_lists_show_times_to_the_millisecond(admin_client, point_limit_order):
    saga = point_limit_order.sagas.get()
    html = admin_client.get(reverse("admin:checkout_saga_changelist")).content.decode()
    assert f"{saga.created_at:%Y-%m-%d %H:%M:%S}.{saga.created_at.microsecond // 1000:03d}" in html
    assert "p.m." not in html and "a.m." not in html
    assert re.search(r'<td class="field-decided">\+0\.\d{3} s</td>', html)


# --- The dashboard --------------------------------------------------------------------------------------


def test_the_dashboard_counts_the_last_hour_and_lists_what_is_in_flight(admin_client, point_limit_order, usd, settings):
    # given one order rejected for points, one approved, one in flight, one flagged, one older than an hour
    points_deposit(user_id="kim", amount=10_000)
    approved = order_place(holder_id="kim", lines=[(1, 5)])
    for service in ("exchanges", "points"):
        saga_step_apply(saga_id=approved.sagas.get().pk, service=service)
    assert saga_approve(saga_id=approved.sagas.get().pk) == "APPROVED"
    in_flight = order_place(holder_id="kim", lines=[(1, 7)])
    saga_step_apply(saga_id=in_flight.sagas.get().pk, service="exchanges")
    flagged = order_place(holder_id="lee", lines=[(1, 1)])
    assert saga_force_reject(saga_id=flagged.sagas.get().pk, by="alice")
    Saga.objects.filter(order=flagged).update(needs_attention=True)
    old = order_place(holder_id="lee", lines=[(1, 1)])
    saga_force_reject(saga_id=old.sagas.get().pk, by="alice")
    Saga.objects.filter(order=old).update(decided_at=timezone.now() - timedelta(hours=2), compensated_at=timezone.now())
    # when
    dashboard = saga_dashboard()
    page = admin_client.get(reverse("admin:dashboard"))
    # then
    assert dashboard.outcomes == {"APPROVED": 1, "REJECTED": 2}
    assert sorted(dashboard.reasons) == [("OPERATOR", 1), ("POINT_LIMIT", 1)]
    assert [(i.saga.order_id, i.steps_applied) for i in dashboard.in_flight] == [(in_flight.pk, ["exchanges"])]
    assert 0 < dashboard.in_flight[0].seconds_left <= settings.SAGA_DEADLINE_SECONDS
    assert [s.order_id for s in dashboard.needs_attention] == [flagged.pk]
    assert page.status_code == 200
    html = page.content.decode()
    assert "Compensation stuck" in html and reverse("admin:orders_order_change", args=[flagged.pk]) in html
    assert reverse("admin:orders_order_change", args=[in_flight.pk]) in html
    assert re.search(r"<b>\d+( ms|\.\d s)</b>to decide, on average", html)


def test_the_dashboard_is_all_clear_when_nothing_waits(admin_client, point_limit_order):
    page = admin_client.get(reverse("admin:dashboard"))
    assert page.status_code == 200
    assert "All clear" in page.content.decode()


def test_the_dashboard_names_attempts_the_sweeper_left_behind_and_unsent_messages(usd):
    # given an attempt long past its deadline (no sweeper) and its START message never sent (no relay)
    order = order_place(holder_id="jjy", lines=[(1, 5)])
    long_ago = timezone.now() - timedelta(minutes=5)
    Saga.objects.filter(order=order).update(deadline_at=long_ago)
    OutboxMessage.objects.filter(saga__order=order).update(created_at=long_ago)
    # when
    dashboard = saga_dashboard()
    # then
    assert (dashboard.overdue, dashboard.outbox_stuck, dashboard.attention_count) == (1, 1, 2)


def test_the_dashboard_shows_what_admission_lets_in_and_turns_away(admin_client, settings):
    # given a budget of 2, full, and three requests turned away
    from checkout.admission import Overloaded, admission_acquire

    settings.SAGA_DEADLINE_SECONDS = 3  # a target of 0.3 s
    settings.SAGA_ADMISSION_MIN_INFLIGHT = settings.SAGA_ADMISSION_MAX_INFLIGHT = 2
    admission_acquire()
    admission_acquire()
    for _ in range(3):
        with pytest.raises(Overloaded):
            admission_acquire()
    # when
    page = admin_client.get(reverse("admin:dashboard"))
    # then
    assert page.status_code == 200
    card = re.search(r'<section class="saga-card wide" id="admission">(.*?)</section>', page.content.decode(), re.S)
    figures = re.findall(r"<b>(\d+)</b>([^<]+)</div>", card.group(1))
    assert figures == [
        ("2", "admitted, not settled (deciding, or undoing a rejection)"),
        ("2", "admission limit"),
        ("3", "turned away, last minute"),
        ("3", "turned away, last hour"),
    ]
    assert "Shedding load:" in card.group(1)
    assert "(target 0.30 s)" in card.group(1)


def test_the_dashboard_needs_a_login(client):
    response = client.get(reverse("admin:dashboard"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_the_dashboard_refreshes_from_its_cards_which_are_for_staff_only(client, admin_client, point_limit_order):
    # the page reloads nothing by itself: a script fetches its cards again
    page = admin_client.get(reverse("admin:dashboard")).content.decode()
    assert 'http-equiv="refresh"' not in page
    assert "checkout/saga-dashboard.js" in page and 'data-refresh-url="/admin/dashboard/?cards=1"' in page
    # the cards alone, not cached
    cards = admin_client.get(reverse("admin:dashboard"), {"cards": "1"})
    assert cards.status_code == 200 and "no-store" in cards["Cache-Control"]
    html = cards.content.decode()
    assert 'id="last-hour"' in html and "<html" not in html and "saga-dashboard.js" not in html
    # and only for staff: anonymous callers go to the login page, a non-staff user too
    anonymous = client.get(reverse("admin:dashboard"), {"cards": "1"})
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"]
    client.force_login(User.objects.create_user("someone", password="pw"))
    assert client.get(reverse("admin:dashboard"), {"cards": "1"}).status_code == 302


@pytest.mark.parametrize(
    "seconds, text", [(0, "0 s ago"), (119, "119 s ago"), (120, "2 min ago"), (7200, "2 h ago"), (172800, "2 days ago")]
)
def test_ago_says_how_recent(seconds, text):
    from checkout.templatetags.saga_admin import ago

    assert ago(timezone.now() - timedelta(seconds=seconds, milliseconds=1)) == text


def test_without_redis_a_force_reject_says_so_and_changes_nothing(admin_client, usd, monkeypatch):
    # given an attempt, and a Redis that refuses connections (the transition lock lives there)
    from redis.exceptions import ConnectionError as RedisConnectionError

    from checkout import services

    order = order_place(holder_id="jjy", lines=[(1, 5)])
    saga = order.sagas.get()

    def no_redis(saga_id):
        raise RedisConnectionError("Connection refused")

    monkeypatch.setattr(services, "transition_lock", no_redis)
    # when
    response = _steer(admin_client, order, saga, "force_reject")
    # then
    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]] == [
        f"Attempt {saga.pk}: not done, try again (ConnectionError: Connection refused)."
    ]
    saga.refresh_from_db()
    assert saga.status == "PENDING" and _types(saga) == ["OrderCreated"]
