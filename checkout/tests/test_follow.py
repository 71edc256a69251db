"""The event follower (`manage.py saga_events`) and its server-sent-events twin (`GET /events/stream`)."""

import json
import threading
import time
from io import StringIO

import pytest
import requests
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from checkout import apis
from checkout.management.commands import saga_events
from checkout.models import SagaEvent
from orders.models import Order

pytestmark = pytest.mark.django_db(transaction=True)


def _event(order: Order, event_type: str) -> SagaEvent:
    return SagaEvent.objects.create(order=order, event_type=event_type, service="orders", timestamp=timezone.now())


class Follower:
    """`saga_events --follow` run against a writer thread, without sleeping on either.

    `polled` is set once the follower has read the log (after its snapshot of what is old);
    once `written` is set, the follower polls once more and stops, long before its --seconds.
    """

    def __init__(self, monkeypatch) -> None:
        self.polled, self.written = threading.Event(), threading.Event()
        follow = saga_events.events_follow

        def follow_until_written(*, keep_going, **kwargs):
            polls_since_written = []

            def go_on() -> bool:
                self.polled.set()
                if self.written.is_set():
                    polls_since_written.append(True)
                return keep_going() and len(polls_since_written) < 2

            return follow(keep_going=go_on, **kwargs)

        monkeypatch.setattr(saga_events, "events_follow", follow_until_written)

    def write_once_polled(self, *events: tuple[Order, str]) -> threading.Thread:
        def write() -> None:
            try:
                assert self.polled.wait(timeout=60), "the follower never polled"
                for order, event_type in events:
                    _event(order, event_type)
            finally:
                self.written.set()
                connection.close()

        writer = threading.Thread(target=write)
        writer.start()
        return writer


@pytest.fixture
def follower(monkeypatch) -> Follower:
    return Follower(monkeypatch)


@pytest.fixture
def two_orders():
    first, second = Order.objects.create(holder_id="a"), Order.objects.create(holder_id="b")
    _event(first, "OrderCreated")
    _event(second, "OrderCreated")
    _event(first, "OrderRejected")
    return first, second


def test_the_follower_prints_one_json_line_per_event_of_the_order_asked(two_orders):
    first, _ = two_orders
    out = StringIO()
    call_command("saga_events", order=first.pk, stdout=out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(m["orderId"], m["eventType"]) for m in lines] == [(first.pk, "OrderCreated"), (first.pk, "OrderRejected")]
    assert all(set(m) >= {"eventType", "timestamp", "orderId"} for m in lines)


def test_without_an_order_it_prints_them_all(two_orders):
    out = StringIO()
    call_command("saga_events", stdout=out)
    assert len(out.getvalue().splitlines()) == 3


def test_following_prints_the_events_that_happen_afterwards(two_orders, follower):
    first, second = two_orders
    out = StringIO()
    # events written while the follower is polling must still appear
    writer = follower.write_once_polled((first, "CompensationCompleted"), (second, "OrderPlaced"))
    call_command("saga_events", order=first.pk, follow=True, seconds=60, stdout=out)
    writer.join()
    types = [json.loads(line)["eventType"] for line in out.getvalue().splitlines()]
    assert types == ["OrderCreated", "OrderRejected", "CompensationCompleted"]


def _read_sse(response: requests.Response, count: int) -> list[dict]:
    messages, fields = [], {}
    for line in response.iter_lines(chunk_size=1, decode_unicode=True):  # no waiting for a full buffer
        if line == "":
            if "data" in fields:
                messages.append(fields)
                if len(messages) == count:
                    return messages
            fields = {}
        elif not line.startswith(":") and ": " in line:
            key, value = line.split(": ", 1)
            fields[key] = value
    return messages


def test_the_stream_sends_an_orders_events_then_the_new_ones(live_server, two_orders):
    first, second = two_orders
    with requests.get(
        f"{live_server.url}/events/stream", params={"orderId": first.pk, "seconds": 60}, stream=True, timeout=10
    ) as r:
        assert r.headers["Content-Type"] == "text/event-stream"
        threading.Timer(1.0, lambda: (_event(second, "OrderPlaced"), _event(first, "OrderPlaced"))).start()
        messages = _read_sse(r, 3)
    assert [m["event"] for m in messages] == ["OrderCreated", "OrderRejected", "OrderPlaced"]
    assert {json.loads(m["data"])["orderId"] for m in messages} == {first.pk}
    assert all(m["id"].isdigit() for m in messages)


def test_the_stream_resumes_after_the_last_event_id(live_server, two_orders):
    first, _ = two_orders
    created = SagaEvent.objects.filter(order=first).order_by("id").first()
    headers = {"Last-Event-ID": str(created.pk)}
    params = {"orderId": first.pk, "seconds": 60}
    with requests.get(f"{live_server.url}/events/stream", params=params, headers=headers, stream=True, timeout=10) as r:
        messages = _read_sse(r, 1)
    assert [m["event"] for m in messages] == ["OrderRejected"]


def test_a_bad_order_id_is_a_400(client):
    assert client.get("/events/stream", {"orderId": "abc"}).status_code == 400


def test_a_stream_ends_after_the_seconds_asked(live_server, two_orders, monkeypatch):
    # given streams that would otherwise last 30 s
    monkeypatch.setattr(apis, "STREAM_SECONDS", 30)
    first, _ = two_orders
    started = time.monotonic()
    params = {"orderId": first.pk, "seconds": 1}
    # when
    with requests.get(f"{live_server.url}/events/stream", params=params, stream=True, timeout=10) as r:
        messages = _read_sse(r, 10)  # returns when the server ends the stream
    # then it ended by the second asked, not by the default, and not before it
    assert len(messages) == 2
    assert 1 <= time.monotonic() - started < 30


def test_following_only_new_events_skips_the_recent_ones(two_orders, follower):
    _, second = two_orders  # their events are a moment old: inside the follower's look-back
    out = StringIO()
    writer = follower.write_once_polled((second, "OrderPlaced"))
    call_command("saga_events", follow=True, new=True, seconds=60, stdout=out)
    writer.join()
    assert [(json.loads(line)["orderId"], json.loads(line)["eventType"]) for line in out.getvalue().splitlines()] == [
        (second.pk, "OrderPlaced")
    ]
