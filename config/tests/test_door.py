"""The web tier's door (config/door.py, ADR 0010 "At the door"): saga starts turned away before Django."""

import io
import json
import logging
import socket
import threading
import time
from types import SimpleNamespace

import pytest

from checkout import admission
from checkout.admission import Overloaded, admission_acquire, admission_discard, admission_state
from config import door
from config.door import Door
from conftest import gunicorn_serving, wait_for


class App:
    """A stand-in for Django: records the paths it answered; checkouts may be held until released."""

    def __init__(self, *, hold_checkouts: bool = False) -> None:
        self.answered: list[str] = []
        self.inside = threading.Semaphore(0)  # released once per request that entered
        self.release = threading.Event()
        self.hold_checkouts = hold_checkouts

    def __call__(self, environ, start_response):
        self.inside.release()
        if self.hold_checkouts and "/checkout/" in environ["PATH_INFO"]:
            assert self.release.wait(timeout=30)
        self.answered.append(f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']}")
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b"{}"]


def call(app, method: str, path: str) -> tuple[str, dict, dict]:
    answer = {}

    def start_response(status, headers):
        answer["status"], answer["headers"] = status, dict(headers)

    body = b"".join(app({"REQUEST_METHOD": method, "PATH_INFO": path, "wsgi.input": io.BytesIO()}, start_response))
    return answer["status"], answer["headers"], json.loads(body)


@pytest.fixture
def queued_for():
    """As gunicorn's worker would: this thread's request waited `seconds` for a thread."""

    def queued(seconds: float) -> None:
        door._request.waited = seconds

    yield queued
    door._request.waited = None


@pytest.fixture
def threads(monkeypatch):
    """As if the door ran in a gunicorn worker with `n` threads."""

    def set_threads(n: int) -> None:
        monkeypatch.setattr(door, "_threads", n)

    return set_threads


def test_outside_gunicorn_every_request_goes_through(db):
    app = App()
    assert [call(Door(app), "POST", path)[0] for path in ("/orders", "/wdm/orders/checkout/7")] == ["200 OK"] * 2
    assert app.answered == ["POST /orders", "POST /wdm/orders/checkout/7"]


@pytest.fixture
def clock(monkeypatch):
    """The door's clock, moved by the test."""
    now = [1000.0]
    monkeypatch.setattr(door, "time", SimpleNamespace(monotonic=lambda: now[0]))
    return now


def test_a_standing_queue_turns_saga_starts_away_before_django(db, settings, queued_for, clock):
    # given: requests that waited longer than SAGA_WEB_QUEUE_SECONDS for a thread, for a while
    settings.SAGA_WEB_QUEUE_SECONDS = 0.05
    app = App()
    gate = Door(app)
    queued_for(0.5)
    burst = [call(gate, "POST", "/orders")[0]]
    clock[0] += door.QUEUE_INTERVAL_SECONDS / 2
    burst.append(call(gate, "POST", "/orders")[0])
    clock[0] += door.QUEUE_INTERVAL_SECONDS / 2
    # when: still waiting that long a whole interval later
    order = call(gate, "POST", "/orders")
    checkout = call(gate, "POST", "/wdm/orders/checkout/7")
    others = [call(gate, method, path)[0] for method, path in [("GET", "/orders"), ("POST", "/points")]]
    # then: a burst goes through; a standing queue turns saga starts away in their dialect's shape, counted
    assert burst == ["200 OK", "200 OK"]
    assert order[0] == checkout[0] == "503 Service Unavailable"
    assert order[1]["Retry-After"] == checkout[1]["Retry-After"] == "1"
    assert order[2] == {"error": "OVERLOADED", "detail": order[2]["detail"]}
    assert checkout[2] == {"order_id": "7", "error": "OVERLOADED", "detail": checkout[2]["detail"]}
    assert "wait for a web thread (0.50 s)" in order[2]["detail"]
    assert admission_state().refused_last_minute == 2
    # reads, payments and probes are short: they go through whatever they waited
    assert others == ["200 OK", "200 OK"]
    assert app.answered == ["POST /orders", "POST /orders", "GET /orders", "POST /points"]


def test_one_request_served_at_once_ends_the_standing_queue(db, settings, queued_for, clock):
    settings.SAGA_WEB_QUEUE_SECONDS = 0.05
    app = App()
    gate = Door(app)
    queued_for(0.5)
    call(gate, "POST", "/orders")
    clock[0] += door.QUEUE_INTERVAL_SECONDS
    assert call(gate, "POST", "/orders")[0] == "503 Service Unavailable"
    # when: a request (any) finds a thread at once
    queued_for(0.0)
    call(gate, "GET", "/healthz")
    # then: the next wait is a new burst, not the old queue
    queued_for(0.5)
    clock[0] += 0.01
    assert call(gate, "POST", "/orders")[0] == "200 OK"


def test_the_door_logs_what_it_turned_away_once_a_second_by_reason(db, settings, queued_for, clock, caplog):
    # given: a standing queue, and no place for one more event stream
    caplog.set_level(logging.INFO, logger="config.door")
    settings.SAGA_WEB_QUEUE_SECONDS = 0.05
    settings.SAGA_SSE_MAX_STREAMS = 0
    gate = Door(App())
    queued_for(0.5)
    assert call(gate, "POST", "/orders")[0] == "200 OK"
    clock[0] += door.QUEUE_INTERVAL_SECONDS

    def lines() -> list[logging.LogRecord]:
        return [record for record in caplog.records if record.name == "config.door"]

    # when: requests are turned away within a second
    refused = [call(gate, "POST", "/orders")[0], call(gate, "POST", "/wdm/orders/checkout/7")[0]]
    clock[0] += 0.5
    refused += [call(gate, "GET", "/events/stream")[0], call(gate, "POST", "/orders")[0]]
    assert refused == ["503 Service Unavailable"] * 4
    # then: nothing is logged while the window is open (nor for the request that went through)
    assert lines() == []
    # when: the next refusal comes after the window closed
    clock[0] += 0.7
    assert call(gate, "POST", "/orders")[0] == "503 Service Unavailable"
    # then: one line for the window, by reason, the most frequent first; that refusal opens the next window
    [line] = lines()
    assert line.getMessage() == (
        "door: turned away 4 requests in 0.50 s starting 1.2 s ago (standing queue for threads: 3,"
        " event streams at their limit: 1)"
    )
    assert (line.turnedAway, line.seconds) == ({"standingQueue": 3, "streamsFull": 1}, 0.5)
    clock[0] += 60
    call(gate, "GET", "/events/stream")
    assert [record.turnedAway for record in lines()] == [{"standingQueue": 3, "streamsFull": 1}, {"standingQueue": 1}]


def test_checkouts_waiting_in_a_process_leave_its_reserved_threads_free(db, settings, threads):
    # given: a process of 3 threads keeping 1 from waiting checkouts, and 2 checkouts waiting
    threads(3)
    settings.SAGA_WEB_RESERVED_THREADS = 1
    app = App(hold_checkouts=True)
    gate = Door(app)
    waiting = [threading.Thread(target=call, args=(gate, "POST", f"/wdm/orders/checkout/{n}")) for n in (1, 2)]
    for thread in waiting:
        thread.start()
    for _ in waiting:
        assert app.inside.acquire(timeout=30)
    # when: a third checkout and a read arrive
    status, headers, body = call(gate, "POST", "/wdm/orders/checkout/3")
    read = call(gate, "GET", "/orders")[0]
    # then: the checkout is turned away at once, the read goes through
    assert (status, headers["Retry-After"]) == ("503 Service Unavailable", "1")
    assert body == {"order_id": "3", "error": "OVERLOADED", "detail": body["detail"]}
    assert "2 checkouts already wait in this web process" in body["detail"]
    assert read == "200 OK"
    # and once the two are answered, their places are free again
    app.release.set()
    for thread in waiting:
        thread.join(timeout=30)
    assert call(gate, "POST", "/wdm/orders/checkout/4")[0] == "200 OK"
    assert sorted(app.answered) == sorted(
        ["GET /orders", "POST /wdm/orders/checkout/1", "POST /wdm/orders/checkout/2", "POST /wdm/orders/checkout/4"]
    )


def test_orders_that_wait_for_their_outcome_count_as_waiting_checkouts(db, settings, threads):
    # given: a process of 2 threads keeping 1 free, and one POST /orders with Prefer: wait=10 waiting
    threads(2)
    settings.SAGA_WEB_RESERVED_THREADS = 1
    release = threading.Event()

    def app(environ, start_response):
        if environ.get("HTTP_PREFER") == "wait=10":  # held until released, as a saga that takes its time
            assert release.wait(timeout=30)
        start_response("201 Created", [("Content-Type", "application/json")])
        return [b"{}"]

    gate = Door(app)

    def place(prefer: str | None) -> tuple[str, dict, bytes]:
        answer = {}
        environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/orders", "wsgi.input": io.BytesIO()}
        if prefer is not None:
            environ["HTTP_PREFER"] = prefer

        def start_response(status, headers):
            answer["status"], answer["headers"] = status, dict(headers)

        body = b"".join(gate(environ, start_response))
        return answer["status"], answer["headers"], body

    waiting = threading.Thread(target=place, args=("wait=10",))
    waiting.start()
    wait_for(lambda: gate._waiting == 1, timeout=30, what="the first order to wait")
    # when: a second order asks to wait, one asks for nothing, one's preference is malformed (ignored)
    second = place("wait=10")
    at_once = place(None)
    malformed = place("wait=soon")
    # then: the second is turned away in the seed dialect's shape; the others, which hold no thread, pass
    assert (second[0], second[1]["Retry-After"]) == ("503 Service Unavailable", "1")
    assert json.loads(second[2])["error"] == "OVERLOADED"
    assert (at_once[0], malformed[0]) == ("201 Created", "201 Created")
    release.set()
    waiting.join(timeout=30)
    assert gate._waiting == 0


@pytest.fixture
def just_refused(db, settings, monkeypatch):
    """A budget of one attempt, taken (its ticket returned), and a request just refused by it in Django;
    the remembered refusal's clock (a list of one time) moved by the test."""
    settings.SAGA_ADMISSION_MIN_INFLIGHT = settings.SAGA_ADMISSION_MAX_INFLIGHT = 1
    now = [1000.0]
    monkeypatch.setattr(admission, "_clock", lambda: now[0])
    ticket = admission_acquire()
    with pytest.raises(Overloaded):
        admission_acquire()
    return ticket, now


def test_while_the_budget_is_full_the_door_answers_without_django(just_refused):
    # given: a budget of one attempt, taken, and a request just refused by it (in Django)
    ticket, now = just_refused
    app = App()
    # when: saga starts arrive at the door
    status, headers, body = call(Door(app), "POST", "/wdm/orders/checkout/9")
    # then: for REMEMBER_REFUSAL_SECONDS the door answers what Redis said, counted, Django unasked
    assert status == "503 Service Unavailable"
    assert body == {"order_id": "9", "error": "OVERLOADED", "detail": body["detail"]}
    assert body["detail"].startswith("At capacity: 1 of 1 attempts in flight.")
    assert int(headers["Retry-After"]) >= 1
    assert admission_state().refused_last_minute == 2
    # after that, while shedding, it asks Redis itself: still full, still refused
    now[0] += 2 * admission.REMEMBER_REFUSAL_SECONDS
    assert call(Door(app), "POST", "/orders")[0] == "503 Service Unavailable"
    assert admission_state().refused_last_minute == 3
    # and once there is room, the request goes on to Django (which takes the ticket)
    admission_discard(ticket)
    now[0] += 2 * admission.REMEMBER_REFUSAL_SECONDS
    assert call(Door(app), "POST", "/orders")[0] == "200 OK"
    assert app.answered == ["POST /orders"]


def test_below_capacity_the_door_does_not_ask_redis(just_refused, monkeypatch):
    # given: the last refusal SHEDDING_SECONDS ago, and a Redis the door must not call
    ticket, now = just_refused
    admission_discard(ticket)
    now[0] += admission.SHEDDING_SECONDS

    def no_redis():
        raise AssertionError("the door asked Redis below capacity")

    monkeypatch.setattr(admission, "_scripts", no_redis)
    app = App()
    # when / then: admission_acquire's own call is the only one
    assert call(Door(app), "POST", "/orders")[0] == "200 OK"


def test_with_admission_off_the_door_never_refuses_for_the_budget(just_refused, settings):
    # given: a full budget that just refused
    # when: admission is turned off
    settings.SAGA_ADMISSION = False
    app = App()
    # then
    assert call(Door(app), "POST", "/orders")[0] == "200 OK"


# --- In gunicorn, as the Procfile runs it --------------------------------------------------


@pytest.fixture
def one_thread_web(transactional_db, tmp_path):
    """gunicorn with the project's settings file (its worker class), one worker of one thread."""
    log_path = tmp_path / "gunicorn.log"
    with gunicorn_serving(log_path, threads=1) as port:
        yield port, log_path


def access_line(log_path, path: str) -> dict:
    """The access line of the request for `path`, once written."""

    def written() -> dict | None:
        lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
        return next((line for line in lines if line.get("path") == path), None)

    return wait_for(written, timeout=10, what=f"the access line of {path}")


def raw_request(port: int, request: bytes) -> socket.socket:
    connection = socket.create_connection(("127.0.0.1", port), timeout=30)
    connection.sendall(request)
    return connection


def read_all(connection: socket.socket) -> str:
    chunks = []
    while chunk := connection.recv(65536):
        chunks.append(chunk)
    connection.close()
    return b"".join(chunks).decode()


def read_head(connection: socket.socket) -> tuple[bytes, bytes]:
    """A response's head (status line and headers), and what came of its body with it."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        assert chunk, f"the connection closed after {data!r}"
        data += chunk
    top, _, rest = data.partition(b"\r\n\r\n")
    return top, rest


def head(connection: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """The status, the headers and what came of the body with them."""
    top, rest = read_head(connection)
    status, *lines = top.decode().split("\r\n")
    return int(status.split()[1]), {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines)}, rest


def read_one(connection: socket.socket) -> bytes:
    """One whole response from a kept-alive connection: its head, then the body its Content-Length says."""
    top, body = read_head(connection)
    length = next(
        int(line.split(b":")[1]) for line in top.split(b"\r\n") if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        chunk = connection.recv(65536)
        assert chunk, f"the connection closed after {top + body!r}"
        body += chunk
    return top + b"\r\n\r\n" + body


@pytest.mark.e2e
def test_in_gunicorn_the_wait_for_a_thread_is_measured(one_thread_web, tmp_path):
    # given: the only thread busy with an event stream for 2 s (it answered its headers)
    port, log_path = one_thread_web
    stream = raw_request(port, b"GET /events/stream?seconds=2 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert stream.recv(4096).startswith(b"HTTP/1.1 200")
    # when: a probe arrives meanwhile and queues for the thread
    probe = raw_request(port, b"GET /healthz?queued HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    answer = read_all(probe)
    stream.close()
    # then: it is answered once the stream ends, and its access line says how long it waited
    assert answer.startswith("HTTP/1.1 200"), answer
    line = access_line(log_path, "/healthz?queued")
    assert line["queuedMs"] >= 1000, line


@pytest.mark.e2e
def test_in_gunicorn_a_client_slow_to_send_its_order_is_not_taken_for_a_busy_web(one_thread_web):
    # given: a new connection whose request comes 0.5 s after it opened, on an idle web
    port, log_path = one_thread_web
    connection = socket.create_connection(("127.0.0.1", port), timeout=30)
    time.sleep(0.5)  # the client's own slowness, the case under test
    # when
    connection.sendall(
        b"POST /orders HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
        b"Connection: close\r\n\r\n{}"
    )
    answer = read_all(connection)
    # then: Django answered it (400: the body names no holder), and its wait for a thread excludes the client's
    assert answer.startswith("HTTP/1.1 400"), answer
    line = access_line(log_path, "/orders")
    assert line["queuedMs"] < 500, line


def test_an_idle_keep_alive_connection_is_kept_longer_than_clients_keep_theirs(one_thread_web):
    # given: a connection that answered once (gunicorn's default closes it after 2 s idle)
    port, _ = one_thread_web
    connection = raw_request(port, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert read_one(connection).startswith(b"HTTP/1.1 200")
    # when: it stays idle past the old default
    time.sleep(3)
    connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    # then: it still answers
    assert read_one(connection).startswith(b"HTTP/1.1 200")
    connection.close()


def test_a_burst_of_100_checkouts_that_drains_within_two_seconds_is_served(db, queued_for, clock):
    # given: seed 004's 100 checkouts at once on a slow machine: the n-th waits n x 12 ms for a thread
    gate = Door(App())
    answers = []
    for n in range(100):
        queued_for(n * 0.012)
        answers.append(call(gate, "POST", f"/wdm/orders/checkout/{n}")[0])
        clock[0] += 0.012
    # then: a burst, not a standing queue (with the defaults: SAGA_WEB_QUEUE_SECONDS, QUEUE_INTERVAL_SECONDS)
    assert answers == ["200 OK"] * 100
