"""The documented examples work (issue 12): Swagger's "Try it out", operation by operation from the top of
config/docs.py, succeeds in a local run.

Every operation's example is read from the served schema, sent to the live server in the local mode (no
credentials) on a fresh database with `load_demo`'s currencies, in config/docs.py's order, and answered 2xx
with a body of the documented example's shape. A real worker settles the sagas the examples start.
"""

import re

import pytest
import requests
import schemathesis
from django.core.management import call_command

from config.docs import OPERATIONS

# A fresh database's ids, as the examples assume: POST /orders makes order 1, /wdm's create order 2.
pytestmark = [pytest.mark.django_db(transaction=True, reset_sequences=True), pytest.mark.e2e]

JSON = "application/json"


def _request(live_server, operation: dict, path: str) -> tuple[str, dict, dict | None]:
    """The operation's URL, query and body, each value its documented example."""
    parameters = operation.get("parameters", [])
    values = {p["in"] + ":" + p["name"]: p["example"] for p in parameters if "example" in p}
    url = live_server.url + re.sub(r"{(\w+)}", lambda m: str(values[f"path:{m.group(1)}"]), path)
    query = {key.split(":", 1)[1]: value for key, value in values.items() if key.startswith("query:")}
    body = operation.get("requestBody", {}).get("content", {}).get(JSON, {}).get("examples")
    return url, query, next(iter(body.values()))["value"] if body else None


def _answer_example(operation: dict):
    for status, response in operation["responses"].items():
        examples = response.get("content", {}).get(JSON, {}).get("examples") if status.startswith("2") else None
        if examples:
            return next(iter(examples.values()))["value"]
    return None


def test_every_documented_example_is_answered_2xx_in_the_local_mode(live_server, celery_worker, settings):
    # given the local mode (no credentials), batch_init on, and the demo currencies 1 USD, 2 EUR, 3 GBP
    settings.SAGA_API_MODE = "local"
    settings.SAGA_BATCH_INIT = True
    call_command("load_demo")
    schema = requests.get(f"{live_server.url}/api/schema?format=json", timeout=30).json()
    paths, conformance = schema["paths"], schemathesis.openapi.from_dict(schema)

    answers = {}
    for method, path in OPERATIONS:
        # when each operation's example is sent, in the order config/docs.py gives
        operation = paths[path][method.lower()]
        url, query, body = _request(live_server, operation, path)
        answer = requests.request(method, url, params=query, json=body, timeout=90)

        # then
        answers[f"{method} {path}"] = answer.status_code
        assert 200 <= answer.status_code < 300, (method, path, answer.status_code, answer.text[:500])
        if answer.headers["Content-Type"].startswith(JSON):  # schemathesis reads the stream's schema as each event's
            conformance[path][method].validate_response(answer)  # raises, naming what differs
        example = _answer_example(operation)
        if isinstance(example, dict):
            assert set(answer.json()) == set(example), (method, path, answer.json())
    assert len(answers) == sum(len(operations) for operations in paths.values())
