"""The OpenAPI schema covers both dialects and validates with no warning; its pages are served."""

import json
import re

import pytest
import yaml
from django.core.management import call_command


def test_the_schema_validates_without_warnings(tmp_path):
    # --fail-on-warn turns any warning into an error
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
    schema = yaml.safe_load((tmp_path / "schema.yml").read_text())
    paths = set(schema["paths"])
    assert {"/orders", "/orders/{id}", "/points", "/events", "/deadlines"} <= paths
    assert {"/wdm/orders/checkout/{order_id}", "/wdm/payment/create_user", "/wdm/stock/find/{item_id}"} <= paths
    checkout = schema["paths"]["/wdm/orders/checkout/{order_id}"]["post"]["responses"]
    assert set(checkout) == {"200", "400", "404", "503"}


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
    assert re.search(r"<title>(.*?)</title>", page, re.S).group(1).strip() == f"{title} \u2013 Django REST framework"
