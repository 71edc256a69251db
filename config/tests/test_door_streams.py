"""Event streams at the door (config/door.py, issue 10): a capped share of a web process' threads.

A stream holds its thread for up to 300 s; 135 of them once took every thread of the web and
/healthz answered after 12.9 s. Each process keeps at most SAGA_SSE_MAX_STREAMS open, counted
with the waiting checkouts against its threads less the reserved ones.
"""

import io
import json
import socket
import threading
import time
from types import SimpleNamespace

import pytest

from checkout.serializers import STREAM_SECONDS
from config import door
from config.door import Door
from config.tests.test_door import App, call, head, raw_request, read_one
from conftest import gunicorn_serving, wait_for


class StreamApp:
    """A stand-in for Django's event stream: `?seconds=N` sends N keep-alives then ends; `?fail` raises."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, environ, start_response):
        self.calls += 1
        query = dict(part.split("=") for part in environ["QUERY_STRING"].split("&") if "=" in part)
        if "fail" in environ["QUERY_STRING"]:
            raise RuntimeError("the view failed before its answer")
        start_response("200 OK", [("Content-Type", "text/event-stream")])
        return (b":\n\n" for _ in range(int(query.get("seconds", "300"))))


def start(app, query: str = "") -> tuple[str, dict, object]:
    """A GET /events/stream as a WSGI server starts it: the status, the headers, the body not yet read."""
    answer = {}

    def start_response(status, headers):
        answer["status"], answer["headers"] = status, dict(headers)

    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/events/stream", "QUERY_STRING": query}
    body = app({**environ, "wsgi.input": io.BytesIO()}, start_response)
    return answer["status"], answer["headers"], body


@pytest.fixture
def clock(monkeypatch):
    """The door's clock, moved by the test."""
    now = [1000.0]
    monkeypatch.setattr(door, "time", SimpleNamespace(monotonic=lambda: now[0]))
    return now


def test_one_stream_past_the_cap_is_503_and_every_way_a_stream_ends_gives_its_place_back(settings, clock):
    # given: a cap of two, and two streams open (30 s and 10 s asked)
    settings.SAGA_SSE_MAX_STREAMS = 2
    app = StreamApp()
    gate = Door(app)
    first, second = start(gate, "seconds=30"), start(gate, "seconds=10")
    assert first[0] == second[0] == "200 OK"
    clock[0] += 4
    # when: a third arrives
    status, headers, body = start(gate, "orderId=1")
    # then: 503 before the view, JSON in the API's error shape, back when the first open stream ends (6 s on)
    assert status == "503 Service Unavailable"
    assert headers["Content-Type"] == "application/json"
    assert headers["Retry-After"] == "6"
    assert json.loads(b"".join(body)) == {
        "error": "OVERLOADED",
        "detail": "At capacity: 2 event streams are open in this web process, its most. Retry after 6 s.",
    }
    assert app.calls == 2

    def refused() -> bool:
        return start(gate)[0] == "503 Service Unavailable"

    # a client gone mid-stream: the server's write fails and it closes the answer (twice is still once)
    next(iter(second[2]))
    second[2].close()
    second[2].close()
    third = start(gate)
    assert third[0] == "200 OK" and refused()
    # an answer closed without ever being read (the server failed before its first write)
    third[2].close()
    fourth = start(gate, "seconds=2")
    assert fourth[0] == "200 OK" and refused()
    # a stream that ran its `seconds` to the end
    assert list(fourth[2]) == [b":\n\n", b":\n\n"]
    fourth[2].close()
    # a view that raised instead of answering
    with pytest.raises(RuntimeError):
        start(gate, "fail")
    # then: exactly the first stream's place is taken, no more, no less
    fifth = start(gate)
    assert fifth[0] == "200 OK" and refused()
    first[2].close()
    fifth[2].close()
    assert [start(gate)[0] for _ in range(3)] == ["200 OK", "200 OK", "503 Service Unavailable"]


@pytest.fixture
def threads(monkeypatch):
    """As if the door ran in a gunicorn worker with `n` threads."""

    def set_threads(n: int) -> None:
        monkeypatch.setattr(door, "_threads", n)

    return set_threads


def test_streams_and_waiting_checkouts_together_leave_the_reserved_threads_free(db, settings, threads):
    # given: 6 threads, 3 reserved; up to 3 streams; two streams open and one checkout waiting
    threads(6)
    settings.SAGA_WEB_RESERVED_THREADS = 3
    settings.SAGA_SSE_MAX_STREAMS = 3
    streams, app = StreamApp(), App(hold_checkouts=True)
    gate = Door(
        lambda environ, start_response: (streams if "stream" in environ["PATH_INFO"] else app)(environ, start_response)
    )
    open_streams = [start(gate), start(gate)]
    waiting = threading.Thread(target=call, args=(gate, "POST", "/wdm/orders/checkout/1"))
    waiting.start()
    try:
        assert app.inside.acquire(timeout=30)
        # when: one more stream (below its own cap), one more checkout, and a probe
        stream = start(gate)
        checkout = call(gate, "POST", "/wdm/orders/checkout/2")
        probe = call(gate, "GET", "/healthz")[0]
    finally:
        app.release.set()
        waiting.join(timeout=30)
    # then: the stream and the checkout are turned away, the probe is served
    assert (stream[0], stream[1]["Retry-After"]) == ("503 Service Unavailable", "1")
    assert json.loads(b"".join(stream[2]))["detail"] == (
        "At capacity: 1 checkouts wait and 2 event streams are open in this web process. Retry after 1 s."
    )
    assert (checkout[0], checkout[1]["Retry-After"]) == ("503 Service Unavailable", "1")
    assert "1 checkouts already wait in this web process, 2 event streams are open" in checkout[2]["detail"]
    assert probe == "200 OK"
    # and once the checkout is answered, a stream may take its place
    assert start(gate)[0] == "200 OK"
    for _, _, body in open_streams:
        body.close()


def test_by_default_a_quarter_of_a_process_threads_may_stream(settings, threads):
    assert settings.SAGA_SSE_MAX_STREAMS is None
    assert Door(App()).stream_limit == door.STREAMS_OUTSIDE_GUNICORN == 32
    threads(128)
    assert Door(App()).stream_limit == 32
    threads(2)
    assert Door(App()).stream_limit == 1
    # the door reads `?seconds=` by itself (it loads before Django's apps): the same bounds as the API
    assert door.STREAM_SECONDS == STREAM_SECONDS
    assert [
        door._stream_seconds(q) for q in ("", "seconds=5", "seconds=0", "seconds=301", "seconds=x", "seconds=²")
    ] == [
        300,
        5,
        300,
        300,
        300,
        300,
    ]


# --- In gunicorn, the real stream -------------------------------------------------------------


def read_until(connection: socket.socket, data: bytes, marker: bytes) -> bytes:
    """`data` and what follows on the connection, until `marker` came."""
    while marker not in data:
        chunk = connection.recv(65536)
        assert chunk, f"the connection closed after {data!r}"
        data += chunk
    return data


def stream_request(seconds: int) -> bytes:
    return f"GET /events/stream?seconds={seconds} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()


def open_stream(port: int, seconds: int = 60) -> socket.socket | None:
    """A stream that started (its connection, to keep or close), or None if it was turned away."""
    connection = raw_request(port, stream_request(seconds))
    status, _, _ = head(connection)
    if status == 200:
        return connection
    assert status == 503, status
    connection.close()
    return None


@pytest.fixture
def two_stream_web(transactional_db, tmp_path):
    """gunicorn with 4 threads, 1 reserved, and room for 2 streams."""
    with gunicorn_serving(
        tmp_path / "gunicorn.log", threads=4, SAGA_WEB_RESERVED_THREADS="1", SAGA_SSE_MAX_STREAMS="2"
    ) as port:
        yield port


@pytest.mark.e2e
def test_in_gunicorn_a_stream_past_the_cap_is_503_and_ended_streams_free_their_place(two_stream_web):
    port = two_stream_web
    # given: two streams open
    first, second = open_stream(port), open_stream(port)
    assert first is not None and second is not None
    # when: a third asks
    third = raw_request(port, stream_request(60))
    answer = read_one(third).decode()
    # then: 503 with Retry-After (the first of them is due to end in up to 60 s) and the API's error body
    top, _, body = answer.partition("\r\n\r\n")
    assert top.startswith("HTTP/1.1 503"), answer
    retry_after = int(next(line.split(":")[1] for line in top.split("\r\n") if line.startswith("Retry-After")))
    assert 1 <= retry_after <= 60
    assert json.loads(body)["error"] == "OVERLOADED"
    # a client that leaves early frees its place (once the stream's next keep-alive finds it gone)
    first.close()
    fourth = wait_for(lambda: open_stream(port, seconds=1), timeout=30, what="a place freed by a client that left")
    # a stream that ran its seconds frees its place too
    read_until(fourth, b"", b"\r\n0\r\n\r\n")  # the last chunk: the server ended the stream
    fifth = wait_for(lambda: open_stream(port), timeout=30, what="a place freed by a stream that ended")
    # and the count is back to exactly the cap
    assert open_stream(port) is None
    for connection in (second, third, fourth, fifth):
        connection.close()


@pytest.mark.e2e
def test_in_gunicorn_200_streams_at_once_leave_healthz_a_thread(transactional_db, tmp_path):
    # given: a web process of 16 threads, 4 of them reserved, the default cap (a quarter: 4 streams)
    with gunicorn_serving(tmp_path / "gunicorn.log", threads=16, SAGA_WEB_RESERVED_THREADS="4") as port:
        # when: 200 clients open a stream at once and keep their connections
        start_together = threading.Barrier(200)
        answers: list[tuple[int, dict[str, str], bytes] | BaseException] = [None] * 200
        connections: list[socket.socket] = []

        def client(n: int) -> None:
            try:
                start_together.wait(timeout=60)
                connection = raw_request(port, stream_request(120))
                connections.append(connection)
                status, headers, body = head(connection)
                if status == 200:
                    body = read_until(connection, body, b"retry: 1000")  # the stream's first message: it started
                else:
                    while len(body) < int(headers.get("content-length", 0)):
                        chunk = connection.recv(65536)
                        assert chunk, f"the connection closed after {body!r}"
                        body += chunk
                answers[n] = (status, headers, body)
            except BaseException as error:
                answers[n] = error

        clients = [threading.Thread(target=client, args=(n,)) for n in range(200)]
        for thread in clients:
            thread.start()
        for thread in clients:
            thread.join(timeout=120)
        try:
            # then: while they are all open, /healthz is answered at once, every time
            probes = []
            for _ in range(5):
                began = time.monotonic()
                probe = raw_request(port, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                answer = read_one(probe)
                probes.append(time.monotonic() - began)
                probe.close()
                assert answer.startswith(b"HTTP/1.1 200"), answer
            print(f"/healthz with 200 streams asked: {', '.join(f'{s * 1000:.0f} ms' for s in probes)}")
            assert max(probes) < 1.0, probes
        finally:
            for connection in connections:
                connection.close()
    # and every stream either started or was turned away in the API's shape: no 500, no debug page
    assert [answer for answer in answers if not isinstance(answer, tuple)] == []
    statuses = [status for status, _, _ in answers]
    assert (statuses.count(200), statuses.count(503)) == (4, 196), statuses
    for status, headers, body in answers:
        if status == 503:
            assert headers["content-type"] == "application/json"
            assert int(headers["retry-after"]) >= 1
            assert json.loads(body) == {"error": "OVERLOADED", "detail": json.loads(body)["detail"]}
        else:
            assert headers["content-type"] == "text/event-stream"
        assert b"Traceback" not in body and b"<html" not in body.lower()
