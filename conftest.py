"""Shared fixtures: a real Celery worker on the test database, an HTTP client for the live server,
and a real browser (config/tests/browser.py) for the pages people use.

End-to-end tests run the saga the way production does: the test process (or its live
server) commits and publishes; a separate `celery worker` process consumes the four
service queues against the same PostgreSQL test database and Redis. Nothing is eager.
"""

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
import requests
from django.conf import settings
from django.core.servers.basehttp import WSGIServer
from django.db import connection
from playwright.sync_api import Browser, Page, sync_playwright

from config.celery import SERVICE_QUEUES, app
from config.tests.browser import BROWSER_TIMEOUT_MS, VIEWPORT, launch_chromium

ARTIFACTS = Path(__file__).resolve().parent / "test-artifacts"
WORKER_NAME = f"test-{os.getpid()}@localhost"


def wait_for(predicate: Callable[[], object], *, timeout: float, what: str, interval: float = 0.05):
    """Poll until `predicate()` is truthy (the outcome we wait for), or fail saying what never happened."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def order_settled(order_id: int, timeout: float = 60):
    """Wait until the order's newest attempt is settled (checkout.notify.settled: approved, or rejected and
    fully compensated); that attempt."""
    from checkout.models import Saga
    from checkout.notify import settled

    def done():
        saga = Saga.objects.filter(order_id=order_id).order_by("-attempt").first()
        return saga if saga is not None and settled(saga) else None

    return wait_for(done, timeout=timeout, what=f"order {order_id} to settle")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _database_url_for(name: str) -> str:
    parts = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/saga"))
    return urlunsplit(parts._replace(path=f"/{name}"))


def _celery_env(**extra: str) -> dict[str, str]:
    """The environment of a Celery process serving this test session's database."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _database_url_for(connection.settings_dict["NAME"]),
        "SAGA_FAULT_PROFILE": "seed",
        "SAGA_SWEEP_GRACE_SECONDS": "0.5",
        "LOG_FORMAT": "json",  # the logging tests read the workers' logs
        # A pool process keeps its connection for the whole session (never closed for age), so
        # a test that drops every connection knows each process that has one will meet it.
        "DATABASE_CONN_MAX_AGE": "3600",
        **extra,
    }


@contextlib.contextmanager
def gunicorn_serving(log_path: Path, *, threads: int, workers: int = 1, **env: str) -> Iterator[int]:
    """The web process as the Procfile starts it (its settings file, `workers` of `threads` each), on the
    test database, with `env` on top; its output in `log_path`. Yields its port once it answers /healthz."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "-c", "python:config.gunicorn", "config.wsgi"]
    command += ["--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--threads", str(threads)]
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            command, env=_celery_env(DJANGO_ALLOWED_HOSTS="127.0.0.1", **env), stdout=log, stderr=subprocess.STDOUT
        )

    def answers() -> bool:
        try:
            return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
        except requests.RequestException:
            return server.poll() is not None  # died: stop waiting, the assertion below says why

    try:
        wait_for(answers, timeout=30, what="gunicorn to answer /healthz")
        assert server.poll() is None, log_path.read_text()
        yield port
    finally:
        server.terminate()
        server.wait(timeout=20)


def _start(args: list[str], log_name: str, **env: str) -> subprocess.Popen:
    ARTIFACTS.mkdir(exist_ok=True)
    with open(ARTIFACTS / log_name, "w") as log:
        return subprocess.Popen(
            # --quiet: no start-up banner, so that the log holds nothing but the JSON log lines
            [sys.executable, "-m", "celery", "-A", "config", "--quiet", *args],
            env=_celery_env(**env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def _worker_args(name: str, *, concurrency: int) -> list[str]:
    """A worker consuming every service queue, as `make run`'s four workers do together."""
    queues = ",".join(SERVICE_QUEUES)
    return [
        "worker",
        "-Q",
        queues,
        "-n",
        name,
        "--concurrency",
        str(concurrency),
        "--without-mingle",
        "--without-gossip",
        "-l",
        "INFO",
    ]


def _wait_ready(worker: subprocess.Popen, name: str, log_name: str) -> None:
    wait_for(
        lambda: worker.poll() is None and app.control.ping(destination=[name], timeout=0.5),
        timeout=60,
        what=f"worker {name} to answer a ping (see test-artifacts/{log_name})",
    )


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def batch_init(settings):
    """seed 004's batch_init routes, which are off unless SAGA_BATCH_INIT is on (ADR 0012)."""
    settings.SAGA_BATCH_INIT = True


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker) -> Iterator[str]:
    """One `celery worker` consuming every service queue, with seed 000's fault profile on."""
    # Nothing left over from an earlier run: no locks, no queued or unacknowledged messages.
    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    with app.connection_for_write() as conn:
        for queue in SERVICE_QUEUES:
            conn.default_channel.queue_declare(queue=queue, durable=True, auto_delete=False)
            conn.default_channel.queue_purge(queue)
    worker = _start(_worker_args(WORKER_NAME, concurrency=8), "worker.log")
    try:
        _wait_ready(worker, WORKER_NAME, "worker.log")
        yield WORKER_NAME
    finally:
        _stop(worker)


@pytest.fixture
def duplicating_worker(celery_worker, monkeypatch) -> Iterator[str]:
    """For one test, the queues are served by a worker that publishes every task twice, and so does this process.

    The session's worker stops consuming meanwhile (it may still finish what it holds).
    """
    from config.celery import _deliver_every_task_twice

    name = f"duplicating-{os.getpid()}@localhost"
    for queue in SERVICE_QUEUES:
        app.control.cancel_consumer(queue, destination=[celery_worker], reply=True)
    worker = _start(_worker_args(name, concurrency=4), "duplicating-worker.log", SAGA_FAULT_PROFILE="seed,duplicate")
    monkeypatch.setattr(app.amqp, "send_task_message", app.amqp.send_task_message)  # restored after the test
    _deliver_every_task_twice()
    try:
        _wait_ready(worker, name, "duplicating-worker.log")
        yield name
        wait_quiet(name)
    finally:
        _stop(worker)
        for queue in SERVICE_QUEUES:
            app.control.add_consumer(queue, destination=[celery_worker], reply=True)


@pytest.fixture
def celery_beat(celery_worker, tmp_path) -> Iterator[None]:
    """A `celery beat` sending the backstops (sweeper, outbox relay) on their schedule, for one test."""
    beat = _start(
        ["beat", "-S", "celery.beat:PersistentScheduler", "-s", str(tmp_path / "schedule"), "--pidfile=", "-l", "INFO"],
        "beat.log",
    )
    try:
        yield
    finally:
        _stop(beat)


@pytest.fixture
def celery_worker(transactional_db, celery_worker_process) -> Iterator[str]:
    """The worker, for one test: the test's tables are flushed only after the worker went quiet."""
    yield celery_worker_process
    wait_quiet(celery_worker_process)


class Api:
    """`http :8088/...` for tests: JSON in, JSON out, against the live server."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()

    def get(self, path: str, **params) -> requests.Response:
        return self.session.get(self.base_url + path, params=params, timeout=30)

    def post(self, path: str, json: dict | None = None) -> requests.Response:
        return self.session.post(self.base_url + path, json=json, timeout=30)


@pytest.fixture(autouse=True)
def _admission_budget_empty() -> None:
    """Every test starts with an empty admission budget (ADR 0010).

    A plain `django_db` test never commits, so the attempts it starts never settle and never
    release their tickets: without this they would hold places, until they expire, in the
    tests that follow.
    """
    from checkout.admission import admission_reset

    with contextlib.suppress(redis.ConnectionError):  # a run without Redis (pure unit tests) has no budget
        admission_reset()


@pytest.fixture(scope="session", autouse=True)
def _live_server_backlog() -> None:
    """Let the live server accept 50+ simultaneous connections (Django's WSGIServer queues only 10)."""
    WSGIServer.request_queue_size = 128


@pytest.fixture
def api(live_server) -> Api:
    return Api(live_server.url)


@pytest.fixture
def usd(db):
    """Currency 1 at rate 1, as in seed 000 (amount 500 costs 500 points)."""
    from exchanges.services import currency_upsert

    return currency_upsert(currency_id=1, code="USD", rate=1, stock=1_000_000)


@pytest.fixture
def seed_currencies(usd):
    """Seed 000's currencies 100 (slow before the expiry check) and 200 (slow after it: the quiz)."""
    from exchanges.demo import SEED_FAULT_CURRENCIES
    from exchanges.services import currency_upsert

    return [
        currency_upsert(currency_id=i, code=code, rate=rate, stock=1_000_000) for i, code, rate in SEED_FAULT_CURRENCIES
    ]


def wait_quiet(worker: str, *, timeout: float = 30) -> None:
    """Wait until the worker has nothing running or reserved, several polls in a row.

    A finishing chain link publishes the next link before it stops being active, so a
    few consecutive empty polls mean every follow-up of what ran has run too. Tasks
    scheduled for later (deadlines with an ETA) are not waited for.
    """
    inspect = app.control.inspect(destination=[worker], timeout=2)

    def empty() -> bool:
        active, reserved = inspect.active() or {}, inspect.reserved() or {}
        return worker in active and not active[worker] and not reserved.get(worker)

    def quiet() -> bool:
        for _ in range(3):
            if not empty():
                return False
            time.sleep(0.1)
        return True

    wait_for(quiet, timeout=timeout, what=f"worker {worker} to go quiet")


# --- Real browser ---------------------------------------------------------------------------


def pytest_collection_modifyitems(items) -> None:
    """A test that uses the browser is marked `browser`, so `-m browser` selects every one of them."""
    for item in items:
        if "page" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, driven by Playwright, for the whole session."""
    # Playwright's sync API keeps an asyncio loop marked as running in this thread for as long
    # as it lives, and Django then refuses ORM calls from the tests ("SynchronousOnlyOperation").
    # The project has no async code; the documented way out is to lift that guard meanwhile.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser, live_server) -> Iterator[Page]:
    """A fresh browser context (no cookies) and page, 1400x900, for a test against `live_server`."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()
