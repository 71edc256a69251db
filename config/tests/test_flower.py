"""Flower behind basic auth (FLOWER_BASIC_AUTH, read by Flower itself), showing the saga's tasks by name."""

from collections.abc import Iterator

import pytest
import requests
from playwright.sync_api import expect

from checkout.models import Saga
from config.celery import app
from config.tests.browser import BROWSER_TIMEOUT_MS, VIEWPORT, screenshot
from conftest import _start, _stop, free_port, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]

USER, PASSWORD = "ops", "flower-test-secret"


@pytest.fixture
def flower(celery_worker) -> Iterator[str]:
    """`celery flower` as the Procfile starts it (with its --conf), on a free port, with FLOWER_BASIC_AUTH set."""
    port = free_port()
    process = _start(
        ["flower", "--conf=config/flowerconfig.py", f"--port={port}", "--address=127.0.0.1"],
        "flower.log",
        FLOWER_BASIC_AUTH=f"{USER}:{PASSWORD}",
    )
    base_url = f"http://127.0.0.1:{port}"

    def metrics() -> str:
        try:
            return requests.get(f"{base_url}/metrics", auth=(USER, PASSWORD), timeout=2).text
        except requests.RequestException:
            return ""

    try:
        # Flower only knows the tasks whose events it received: wait until its event receiver has
        # seen the worker's heartbeat (every 2 s) before any saga runs.
        online = f'flower_worker_online{{worker="{celery_worker}"}} 1.0'
        wait_for(
            lambda: process.poll() is not None or online in metrics(),
            timeout=60,
            what="Flower to see the worker online (see test-artifacts/flower.log)",
        )
        assert process.poll() is None, (process.returncode, "see test-artifacts/flower.log")
        yield base_url
    finally:
        _stop(process)


def test_flower_asks_for_the_password(flower, celery_worker):
    # when
    anonymous = requests.get(f"{flower}/", timeout=10)
    wrong = requests.get(f"{flower}/", auth=(USER, "guess"), timeout=10)
    api_anonymous = requests.get(f"{flower}/api/tasks", timeout=10)
    signed_in = requests.get(f"{flower}/", auth=(USER, PASSWORD), timeout=10)
    # then
    assert (anonymous.status_code, anonymous.headers["WWW-Authenticate"]) == (401, 'Basic realm="flower"')
    assert (wrong.status_code, api_anonymous.status_code) == (401, 401)
    assert signed_in.status_code == 200
    assert "<title>Workers · Flower</title>" in signed_in.text and celery_worker in signed_in.text


def test_flower_asks_for_the_password_of_its_metrics_too(flower, celery_worker):
    """Flower 2.2.0 leaves /metrics open; config/flowerconfig.py puts it behind the same basic auth."""
    # when
    anonymous = requests.get(f"{flower}/metrics", timeout=10)
    wrong = requests.get(f"{flower}/metrics", auth=(USER, "guess"), timeout=10)
    signed_in = requests.get(f"{flower}/metrics", auth=(USER, PASSWORD), timeout=10)
    health = requests.get(f"{flower}/healthcheck", timeout=10)
    # then
    assert (anonymous.status_code, anonymous.headers["WWW-Authenticate"]) == (401, 'Basic realm="flower"')
    assert "flower_worker_online" not in anonymous.text + wrong.text
    assert wrong.status_code == 401
    assert signed_in.status_code == 200 and f'flower_worker_online{{worker="{celery_worker}"}} 1.0' in signed_in.text
    assert (health.status_code, health.text) == (200, "OK")  # the probe stays open, and says nothing else


def test_flower_lists_a_sagas_tasks_by_their_explicit_names(flower, api, usd, settings):
    # given a deadline that fires within the test, yet long after the three steps of an idle worker
    settings.SAGA_DEADLINE_SECONDS = 10
    api.post("/points", {"userId": "jjy", "point": 10000})
    # when
    order_id = api.post("/orders", {"holderId": "jjy", "amount": 500}).json()["id"]
    # then
    saga_id = Saga.objects.get(order_id=order_id).pk
    saga_args = {f"({saga_id},)", f"[{saga_id}]"}  # the args' repr: a chain's later links carry a list

    def steps_done() -> dict[str, str]:
        tasks = requests.get(f"{flower}/api/tasks", auth=(USER, PASSWORD), timeout=10).json()
        states = {task["name"]: task["state"] for task in tasks.values() if task["args"] in saga_args}
        return states if all(states.get(name) == "SUCCESS" for name in ("orders.approve", "checkout.deadline")) else {}

    # the deadline countdown fires after SAGA_DEADLINE_SECONDS and finds the order approved
    states = wait_for(steps_done, timeout=90, what=f"Flower to show order {order_id}'s tasks succeeded")
    assert states == {
        "exchanges.apply": "SUCCESS",
        "points.apply": "SUCCESS",
        "orders.approve": "SUCCESS",
        "checkout.deadline": "SUCCESS",
    }


HOUSEKEEPING = ("checkout.sweep_overdue", "checkout.outbox_relay", "checkout.idempotency_cleanup")


def test_flower_lists_the_sagas_tasks_and_none_of_the_housekeeping(
    flower, celery_worker, celery_beat, api, usd, browser
):
    """Issue 12: the once-a-second backstops run, and send Flower nothing to list (ADR 0009, as built)."""

    def runs() -> dict[str, int]:  # tasks the worker has run, by name, since it started
        stats = app.control.inspect(destination=[celery_worker], timeout=2).stats() or {}
        return stats.get(celery_worker, {}).get("total", {})

    # given beat sending the sweeper and the relay every second, and the hourly key cleanup sent now
    before = runs()
    app.send_task("checkout.idempotency_cleanup")
    wait_for(
        lambda: (
            all(runs().get(name, 0) >= before.get(name, 0) + 3 for name in HOUSEKEEPING[:2])
            and runs().get(HOUSEKEEPING[2], 0) > before.get(HOUSEKEEPING[2], 0)
        ),
        timeout=30,
        what="the worker to run each housekeeping task",
    )
    # when a saga runs
    api.post("/points", {"userId": "jjy", "point": 10000})
    api.post("/orders", {"holderId": "jjy", "amount": 500})

    def listed() -> set[str]:
        tasks = requests.get(f"{flower}/api/tasks", auth=(USER, PASSWORD), timeout=10).json()
        names = {task["name"] for task in tasks.values()}
        return names if "orders.approve" in names else set()

    names = wait_for(listed, timeout=60, what="Flower to list the saga's tasks")
    # then Flower lists the saga's steps and its deadline, and no housekeeping task, by any of its events
    assert {"exchanges.apply", "points.apply", "orders.approve", "checkout.deadline"} <= names
    assert names.isdisjoint(HOUSEKEEPING)
    types = requests.get(f"{flower}/api/task/types", auth=(USER, PASSWORD), timeout=10).json()["task-types"]
    assert set(types).isdisjoint(HOUSEKEEPING)
    # and so does its task list, as a browser shows it
    context = browser.new_context(viewport=VIEWPORT, http_credentials={"username": USER, "password": PASSWORD})
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto(f"{flower}/tasks")
        grid = page.locator("#tasks-table")
        expect(grid).to_contain_text("orders.approve")
        for name in HOUSEKEEPING:
            expect(grid).not_to_contain_text(name)
        screenshot(page, "flower-tasks")
    finally:
        context.close()
