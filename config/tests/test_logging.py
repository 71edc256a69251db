"""Structured logs: one JSON line per record, naming the order and attempt (or request) it concerns."""

import io
import json
import logging

import pytest
import requests

from checkout.models import Saga
from config.logs import (
    ContextFilter,
    JsonFormatter,
    PlainFormatter,
    log_bind,
    log_clear,
    log_context,
    log_formatter,
    log_scope,
    logging_config,
)
from conftest import ARTIFACTS, gunicorn_serving, wait_for

CHAIN = ["exchanges.apply", "points.apply", "orders.approve"]


@pytest.fixture(autouse=True)
def _no_context_left_over():
    """Earlier tests call services straight from this thread, which bind their order here."""
    log_clear()


def json_lines(path) -> list[dict]:
    """Every line of a log, parsed: json.loads fails the test on the first line that is not JSON."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def record(message: str = "OrderPlaced", **extra) -> logging.LogRecord:
    made = logging.LogRecord("checkout.events", logging.INFO, __file__, 1, message, None, None)
    made.created = 0  # 1970-01-01T00:00:00.000Z
    made.__dict__.update(extra)
    return made


def context_filtered(made: logging.LogRecord) -> logging.LogRecord:
    ContextFilter().filter(made)
    return made


def test_json_lines_carry_the_bound_context():
    # given
    with log_scope(orderId=7, sagaId=9, taskName="orders.approve"):
        made = context_filtered(record(eventType="OrderPlaced", service="orders"))
    # when
    line = JsonFormatter().format(made)
    # then
    assert json.loads(line) == {
        "time": "1970-01-01T00:00:00.000Z",
        "level": "INFO",
        "logger": "checkout.events",
        "message": "OrderPlaced",
        "eventType": "OrderPlaced",
        "service": "orders",
        "orderId": 7,
        "sagaId": 9,
        "taskName": "orders.approve",
    }
    assert "\n" not in line


def test_a_record_outside_any_context_has_only_the_four_fields():
    assert json.loads(JsonFormatter().format(context_filtered(record("ready")))) == {
        "time": "1970-01-01T00:00:00.000Z",
        "level": "INFO",
        "logger": "checkout.events",
        "message": "ready",
    }


def test_an_explicit_field_wins_over_the_context():
    with log_scope(orderId=7, sagaId=9):
        made = context_filtered(record(orderId=8))
    assert (made.orderId, made.sagaId) == (8, 9)


def test_a_scope_drops_what_was_bound_inside_it():
    with log_scope(requestId="r-1"):
        log_bind(orderId=3)
        assert log_context() == {"requestId": "r-1", "orderId": 3}
    assert log_context() == {}


def test_the_plain_format_is_one_readable_line_with_the_context_at_its_end():
    # given
    with log_scope(orderId=7, sagaId=9, requestId="r-1"):
        made = context_filtered(record())
    # when / then
    assert (
        PlainFormatter().format(made)
        == "1970-01-01T00:00:00.000Z INFO checkout.events OrderPlaced orderId=7 sagaId=9 requestId=r-1"
    )
    assert (
        PlainFormatter().format(context_filtered(record("ready")))
        == "1970-01-01T00:00:00.000Z INFO checkout.events ready"
    )


def test_log_format_picks_the_formatter_and_refuses_others():
    assert type(log_formatter("json")) is JsonFormatter
    assert type(log_formatter("plain")) is PlainFormatter
    assert logging_config(log_format="plain", level="INFO")["formatters"]["structured"]["log_format"] == "plain"
    with pytest.raises(ValueError, match="LOG_FORMAT must be one of json, plain, not 'xml'"):
        logging_config(log_format="xml", level="INFO")


def test_celery_handlers_become_json_and_still_hide_idle_backstops(settings):
    # given a root logger with a handler as Celery's worker sets one up
    from celery.app.trace import LOG_SUCCESS

    from config.celery import _structured_root

    settings.LOG_FORMAT = "json"
    root, stream = logging.Logger("celery-root-under-test"), io.StringIO()
    root.addHandler(logging.StreamHandler(stream))
    # when
    _structured_root(logger=root)
    for name, returned in [
        ("checkout.outbox_relay", "0"),
        ("checkout.sweep_overdue", "None"),  # skipped: another sweep held the lock
        ("checkout.outbox_relay", "2"),
        ("points.apply", "0"),
    ]:
        root.info(LOG_SUCCESS, {"id": f"t-{returned}", "name": name, "return_value": returned, "runtime": 0.5})
    root.info("Scheduler: Sending due task %s (%s)", "checkout.sweep_overdue", "checkout.sweep_overdue")
    # then
    assert [(line["message"], line["taskName"]) for line in map(json.loads, stream.getvalue().splitlines())] == [
        ("Task checkout.outbox_relay[t-2] succeeded in 0.5s: 2", "checkout.outbox_relay"),
        ("Task points.apply[t-0] succeeded in 0.5s: 0", "points.apply"),
    ]


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_the_worker_logs_a_saga_in_json_lines_with_its_order_and_attempt(api, usd, celery_worker):
    # given
    api.post("/points", {"userId": "jjy", "point": 10000})
    # when
    order_id = api.post("/orders", {"holderId": "jjy", "amount": 500}).json()["id"]
    # then
    saga_id = Saga.objects.get(order_id=order_id).pk

    def lines_of_the_chain() -> list[dict]:
        lines = [line for line in json_lines(ARTIFACTS / "worker.log") if line.get("sagaId") == saga_id]
        lines = [line for line in lines if line.get("taskName") in CHAIN]
        return lines if any(line["message"].startswith("Task orders.approve[") for line in lines) else []

    lines = wait_for(lines_of_the_chain, timeout=30, what=f"the worker's log lines of order {order_id}")
    assert {(line["orderId"], line["sagaId"]) for line in lines} == {(order_id, saga_id)}
    events = [(line["eventType"], line["service"], line["taskName"]) for line in lines if "eventType" in line]
    assert events == [
        ("ExchangeSucceed", "exchanges", "exchanges.apply"),
        ("PointUsed", "points", "points.apply"),
        ("OrderPlaced", "orders", "orders.approve"),
    ]
    succeeded = [line for line in lines if line["logger"] == "celery.app.trace"]
    assert [(line["taskName"], line["message"].rsplit(": ", 1)[1]) for line in succeeded] == [
        ("exchanges.apply", "'APPLIED'"),
        ("points.apply", "'APPLIED'"),
        ("orders.approve", "'APPROVED'"),
    ]
    # the worker's `received` line, written before the task runs, names the same task
    received = {
        line["taskId"]: line["taskName"]
        for line in json_lines(ARTIFACTS / "worker.log")
        if line["message"].endswith("] received")
    }
    assert [received[line["taskId"]] for line in succeeded] == CHAIN


@pytest.fixture
def gunicorn(transactional_db, tmp_path):
    """The web process as the Procfile starts it (one worker, few threads), on the test database."""
    log_path = tmp_path / "gunicorn.log"
    with gunicorn_serving(log_path, threads=4) as port:
        yield f"http://127.0.0.1:{port}", log_path


@pytest.mark.e2e
def test_the_web_writes_one_json_access_line_per_request(gunicorn, usd, celery_worker):
    # given
    base_url, log_path = gunicorn
    requests.post(f"{base_url}/points", json={"userId": "jjy", "point": 10000}, timeout=10)
    # when
    response = requests.post(
        f"{base_url}/orders", json={"holderId": "jjy", "amount": 500}, headers={"X-Request-Id": "req-1"}, timeout=10
    )
    listed = requests.get(f"{base_url}/currencies", timeout=10)
    # then
    assert response.status_code == 201, response.text
    order_id = response.json()["id"]
    assert response.headers["X-Request-Id"] == "req-1"

    def access_lines() -> list[dict]:
        lines = [line for line in json_lines(log_path) if line["logger"] == "config.access"]
        lines = [line for line in lines if line["path"] != "/healthz"]  # the fixture's readiness probes
        return lines if len(lines) == 3 else []

    points, orders, currencies = wait_for(access_lines, timeout=10, what="three access lines")
    assert (points["message"].startswith("POST /points 201 "), "orderId" in points) == (True, False)
    duration = orders.pop("durationMs")
    assert isinstance(duration, float) and duration > 0
    queued = orders.pop("queuedMs")  # gunicorn's worker measured its wait for a thread (config/door.py)
    assert isinstance(queued, float) and 0 <= queued < 1000
    assert orders == {
        "time": orders["time"],
        "level": "INFO",
        "logger": "config.access",
        "message": f"POST /orders 201 {duration}ms",
        "method": "POST",
        "path": "/orders",
        "status": 201,
        "requestId": "req-1",
        "orderId": order_id,
        "sagaId": Saga.objects.get(order_id=order_id).pk,
    }
    assert (currencies["path"], currencies["status"], "orderId" in currencies) == ("/currencies", 200, False)
    assert currencies["requestId"] == listed.headers["X-Request-Id"] != "req-1"  # a generated id, echoed
    assert len(currencies["requestId"]) == 32
    # gunicorn's own lines are JSON too (json_lines parsed them), and it writes no text access line
    messages = [line["message"] for line in json_lines(log_path) if line["logger"] == "gunicorn.error"]
    assert any(message.startswith("Booting worker with pid") for message in messages), messages
