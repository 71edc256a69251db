"""The browsable API as a browser receives it (DRF's HTML pages), read with Django's test client: the root's
links, descriptions as Markdown, readable form labels, the currency choice, the form above the list, the filters.
What needs a real browser (typing into the forms, the layout) is in test_browser.py."""

import re

import pytest

from exchanges.services import currency_upsert

HTML = "text/html"


def page(client, path: str) -> str:
    response = client.get(path, HTTP_ACCEPT=HTML)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith(HTML)
    return response.content.decode()


def labels(html: str) -> list[str]:
    """The HTML form's labels, in order (DRF's horizontal form: `<label class="col-sm-2 control-label">`)."""
    form = html[html.index('id="post-object-form"') : html.index('id="post-generic-content-form"')]
    return [
        " ".join(label.split())
        for label in re.findall(r'<label class="col-sm-2 control-label[^"]*">(.*?)</label>', form, re.S)
    ]


@pytest.mark.django_db
def test_the_root_is_titled_and_lists_every_entry(client):
    # when
    links = client.get("/", HTTP_ACCEPT="application/json").json()
    # then
    host = "http://testserver"
    assert links == {
        "points": f"{host}/points",
        "orders": f"{host}/orders",
        "currencies": f"{host}/currencies",
        "exchanges": f"{host}/exchanges",
        "transactions": f"{host}/transactions",
        "deadlines": f"{host}/deadlines",
        "events": f"{host}/events",
        "events-stream": f"{host}/events/stream",
        "my-page": f"{host}/my-page/{{userId}}",
        "auth-tokens": f"{host}/auth/tokens",
        "wdm": f"{host}/api/redoc#tag/wdm",
        "healthz": f"{host}/healthz",
        "readyz": f"{host}/readyz",
        "schema": f"{host}/api/schema",
        "swagger-ui": f"{host}/api/docs",
        "redoc": f"{host}/api/redoc",
        "admin": f"{host}/admin/",
        "dashboard": f"{host}/admin/dashboard/",
    }
    assert "<h1>Saga orchestrator API</h1>" in page(client, "/")


@pytest.mark.django_db
def test_the_header_names_the_product_and_says_who_is_calling_in_words(client):
    # when
    html = page(client, "/orders")
    # then: the product and its docs and admin, not DRF's site; the open local mode as words, not a repr
    header = html[html.index('class="navbar') : html.index('class="breadcrumb"')]
    brands = re.findall(r'<a class="navbar-brand" href="([^"]+)">([^<]+)</a>', header)
    assert brands == [("/", "Saga orchestrator"), ("/api/docs", "API docs"), ("/admin/", "Admin")]
    assert "django-rest-framework.org" not in header
    assert "open access (local mode: every scope, any account)" in header
    assert "Caller(" not in html


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["points", "orders", "currencies", "exchanges", "transactions", "deadlines", "events"])
def test_each_list_the_root_links_to_answers(client, name):
    # given
    url = client.get("/", HTTP_ACCEPT="application/json").json()[name]
    # when / then
    assert client.get(url.removeprefix("http://testserver"), HTTP_ACCEPT="application/json").status_code == 200


@pytest.mark.django_db
def test_descriptions_are_rendered_as_markdown(client):
    # when
    html = page(client, "/orders")
    description = html[html.index('<div class="pull-left">') : html.index('id="post-object-form"')]
    # then
    assert "<code>?holderId=jjy</code>" in description
    assert "`" not in description


@pytest.mark.django_db
def test_the_forms_labels_are_words_not_field_names(client):
    # given
    currency_upsert(currency_id=1, code="USD", rate=1, stock=1000)
    # when / then
    assert labels(page(client, "/orders")) == ["Holder id", "Currency", "Amount", "Lines"]
    assert labels(page(client, "/points")) == ["User id", "Points"]


@pytest.mark.django_db
def test_the_orders_form_offers_the_existing_currencies(client):
    # given
    currency_upsert(currency_id=1, code="USD", rate=1, stock=1000)
    currency_upsert(currency_id=2, code="EUR", rate=2, stock=30)
    # when
    html = page(client, "/orders")
    # then
    select = re.search(r'<select class="form-control" name="currencyId">(.*?)</select>', html, re.S).group(1)
    options = [
        (value, selected.strip(), " ".join(text.split()))
        for value, selected, text in re.findall(r'<option value="(\d+)" ?(selected)?[^>]*>(.*?)</option>', select, re.S)
    ]
    assert options == [
        ("1", "selected", "1 · USD (1 point a unit, 1000 in stock)"),
        ("2", "", "2 · EUR (2 points a unit, 30 in stock)"),
    ]
    assert '<input name="currencyId"' not in html


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/orders", "/points"])
def test_the_form_is_above_the_list(client, path):
    # when
    html = page(client, path)
    # then
    assert html.index('id="post-object-form"') < html.index('class="response-info"')
    assert html.count('id="post-object-form"') == 1


@pytest.mark.django_db
def test_a_list_page_offers_its_filters(client):
    # when
    html = page(client, "/orders")
    # then
    assert 'data-target="#filtersModal"' in html
    for name in ("orderId", "holderId", "status", "createdAfter", "createdBefore"):
        assert f'name="{name}"' in html


@pytest.mark.django_db
def test_an_unknown_filter_is_a_400_on_the_html_page_too(client):
    # when
    response = client.get("/orders?statusx=REJECTED", HTTP_ACCEPT=HTML)
    # then
    assert response.status_code == 400
    assert "Unknown query parameter: statusx." in response.content.decode()
