"""The OpenAPI schema covers both dialects and validates with no warning; its pages are served."""

import json
import re

import pytest
import yaml
from django.core.management import call_command

from config.api import ID_PATTERN
from config.docs import OPERATIONS


def test_the_schema_validates_without_warnings(tmp_path):
    # --fail-on-warn turns any warning into an error
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
    schema = yaml.safe_load((tmp_path / "schema.yml").read_text())
    paths = set(schema["paths"])
    assert {"/orders", "/orders/{id}", "/points", "/events", "/deadlines"} <= paths
    assert {"/wdm/orders/checkout/{order_id}", "/wdm/payment/create_user", "/wdm/stock/find/{item_id}"} <= paths
    checkout = schema["paths"]["/wdm/orders/checkout/{order_id}"]["post"]["responses"]
    assert set(checkout) == {"200", "400", "401", "403", "404", "413", "429", "503"}


@pytest.mark.parametrize("path", ["/orders", "/wdm/orders/checkout/{order_id}"])
def test_both_ways_to_start_an_attempt_document_the_503_with_retry_after(tmp_path, path):
    call_command("spectacular", "--file", str(tmp_path / "schema.yml"))
    schema = yaml.safe_load((tmp_path / "schema.yml").read_text())
    refused = schema["paths"][path]["post"]["responses"]["503"]
    assert refused["headers"]["Retry-After"]["schema"] == {"type": "integer"}
    body = refused["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert {"error", "detail"} <= set(schema["components"]["schemas"][body]["properties"])


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/docs", "/api/redoc"])
def test_swagger_ui_and_redoc_are_served(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert b"/api/schema" in response.content


@pytest.mark.django_db
def test_the_schema_is_served_as_json(client):
    response = client.get("/api/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert json.loads(response.content)["info"]["title"] == "Saga orchestrator API"


@pytest.mark.django_db
@pytest.mark.parametrize("path, title", [("/orders", "Orders"), ("/points", "Points"), ("/events", "Events")])
def test_the_browsable_api_names_its_pages_without_the_class_suffix(client, path, title):
    page = client.get(path, HTTP_ACCEPT="text/html").content.decode()
    assert re.search(r"<title>(.*?)</title>", page, re.S).group(1).strip() == f"{title} \u2013 Saga orchestrator"


def test_every_operation_documents_credentials_throttles_and_an_unavailable_database(tmp_path):
    call_command("spectacular", "--file", str(tmp_path / "schema.yml"))
    schema = yaml.safe_load((tmp_path / "schema.yml").read_text())
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert {"401", "403", "429", "503"} <= set(responses), (method, path)
            assert responses["401"]["headers"]["WWW-Authenticate"]["required"] is True, (method, path)
            assert responses["429"]["headers"]["Retry-After"]["required"] is True, (method, path)
            assert ("413" in responses) == (method == "post"), (method, path)
            error = responses["404" if "404" in responses else "401"]["content"]["application/json"]["schema"]
            assert error["$ref"].endswith("/RefusedOut" if path.startswith("/wdm/") else "/ErrorOut"), (method, path)


def test_idempotent_writes_document_the_key_and_its_422_and_path_segments_their_types(tmp_path):
    call_command("spectacular", "--file", str(tmp_path / "schema.yml"))
    paths = yaml.safe_load((tmp_path / "schema.yml").read_text())["paths"]

    def parameters(path: str, method: str) -> dict:
        return {p["name"]: p["schema"] for p in paths[path][method].get("parameters", [])}

    for path in ("/orders", "/points", "/wdm/payment/pay/{user_id}/{amount}", "/wdm/orders/create/{user_id}"):
        assert parameters(path, "post")["Idempotency-Key"] == {"type": "string", "maxLength": 200}, path
        assert "422" in paths[path]["post"]["responses"], path
    assert "Idempotency-Key" not in parameters("/wdm/orders/checkout/{order_id}", "post")
    assert parameters("/orders/{id}", "get")["id"] == {"type": "integer"}
    assert parameters("/points/{user_id}", "get")["user_id"]["pattern"] == ID_PATTERN
    assert parameters("/my-page/{user_id}", "get")["user_id"]["pattern"] == ID_PATTERN
    stock_add = parameters("/wdm/stock/add/{item_id}/{amount}", "post")
    assert stock_add["item_id"] == {"type": "string", "pattern": "^[0-9]{1,18}$"}
    assert stock_add["amount"] == {"type": "integer", "minimum": 0, "maximum": 10**12}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "method, path, status, error",
    [
        ("get", "/wdm/stock/find/abc", 404, "NOT_FOUND"),
        ("post", "/wdm/stock/item/create/-1", 400, "INVALID"),
        ("get", "/wdm/payment/create_user", 405, "METHOD_NOT_ALLOWED"),
        ("post", "/wdm/payment/create_user/", 404, "NOT_FOUND"),  # no route: Django's 404, in the dialect's shape
    ],
)
def test_wdm_errors_are_its_error_and_detail(client, method, path, status, error):
    answer = getattr(client, method)(path)
    assert (answer.status_code, answer.json()["error"], set(answer.json())) == (status, error, {"error", "detail"})


@pytest.mark.django_db
def test_wdm_refuses_a_caller_without_credentials_in_its_shape_with_www_authenticate(client, settings):
    settings.SAGA_API_MODE = "protected"
    answer = client.post("/wdm/payment/create_user")
    assert (answer.status_code, answer.json()["error"]) == (401, "NOT_AUTHENTICATED")
    assert answer["WWW-Authenticate"] == 'Api-Key realm="api"'


def test_every_operation_has_a_summary_a_description_and_examples(tmp_path):
    call_command("spectacular", "--file", str(tmp_path / "schema.yml"))
    schema = yaml.safe_load((tmp_path / "schema.yml").read_text())
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert operation.get("summary") and operation.get("description"), (method, path)
            for parameter in operation.get("parameters", []):
                assert parameter["in"] != "path" or "example" in parameter, (method, path, parameter["name"])
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            assert body is None or body.get("examples"), (method, path)
            for status, response in operation["responses"].items():
                answer = response.get("content", {}).get("application/json")
                assert not (status.startswith("2") and answer) or answer.get("examples"), (method, path, status)
    # listed in config/docs.py's order, each example needing only what the ones above it made
    listed = [(method.upper(), path) for path, operations in schema["paths"].items() for method in operations]
    assert listed == list(OPERATIONS)
    orders = schema["paths"]["/orders"]["post"]
    assert orders["summary"] == "Place an order"
    assert orders["requestBody"]["content"]["application/json"]["examples"]["Seed000"]["value"] == {
        "holderId": "jjy",
        "currencyId": 1,
        "amount": 500,
    }
    assert orders["responses"]["201"]["content"]["application/json"]["schema"]["$ref"].endswith("/OrderOut")
    points = schema["paths"]["/points"]["post"]
    assert points["requestBody"]["content"]["application/json"]["examples"]["Seed000"]["value"] == {
        "userId": "jjy",
        "point": 1000,
    }
    assert points["responses"]["201"]["content"]["application/json"]["schema"]["$ref"].endswith("/AccountOut")


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/docs", "/api/redoc"])
def test_swagger_ui_and_redoc_load_nothing_from_another_host(client, path):
    page = client.get(path).content.decode()
    assert re.findall(r"https?://[^\s\"'<>]+", page) == []
    assert re.findall(r"(?:src|href)=\"([^\"]+)\"", page)  # its scripts, from our static files
    assert all(url.startswith("/static/") for url in re.findall(r"(?:src|href)=\"([^\"]+)\"", page))
    if path == "/api/docs":  # else Swagger UI sends the schema's URL to validator.swagger.io for a badge
        assert '"validatorUrl": null' in page
