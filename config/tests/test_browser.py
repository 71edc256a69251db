"""The pages people use, in a real browser: the admin login, Swagger UI and ReDoc, the browsable API's forms.

Debian's Chromium, headless, driven by Playwright (config/tests/browser.py); each test leaves
a full-page screenshot in test-artifacts/screenshots/.
"""

import json

import pytest
from playwright.sync_api import Page, expect

import checkout.outbox
from checkout.models import OutboxMessage, Saga
from config.tests.bad_input import ID_MESSAGE, NOT_AN_INTEGER, TOO_SMALL, too_large
from config.tests.browser import ADMIN_USERNAME, admin_login, screenshot
from orders.models import Order, OrderStatus
from points.models import PointAccount
from points.services import points_deposit

pytestmark = pytest.mark.browser


def submit_post_form(page: Page, path: str, **fields: str) -> int:
    """Type `fields` into the browsable API's HTML form, click POST, wait for the answer's page; its status."""
    form = page.locator("#post-object-form")
    for name, value in fields.items():
        field = form.locator(f"[name={name}]")
        if field.evaluate("element => element.tagName") == "SELECT":
            field.select_option(value)  # the currency: a choice of the existing ones
        else:
            field.fill(value)
    with page.expect_response(lambda response: response.request.method == "POST") as answer:
        form.get_by_role("button", name="POST").click()
    expect(page.locator(".request-info")).to_have_text(f"POST {path}")  # the answer's page is shown
    return answer.value.status


def shown_answer(page: Page) -> tuple[str, dict]:
    """The browsable API's answer pane: its status line and its JSON body."""
    head, body = page.locator(".response-info pre").inner_text().split("\n\n", 1)
    return head.splitlines()[0], json.loads(body)


def form_values(page: Page, *names: str) -> dict[str, str]:
    form = page.locator("#post-object-form")
    return {name: form.locator(f"[name={name}]").input_value() for name in names}


def off_site(urls: list[str], live_server) -> list[str]:
    """The requests a page made to anywhere but the live server (a CDN, say)."""
    return [url for url in urls if not url.startswith((f"{live_server.url}/", "data:", "blob:"))]


def test_admin_login_through_the_login_form_shows_the_admin_index(page, live_server):
    # when
    user = admin_login(page, live_server)
    # then
    assert page.url == f"{live_server.url}/admin/"
    expect(page.locator("#content h1")).to_have_text("Control room")
    expect(page.get_by_role("link", name="Saga dashboard")).to_be_visible()
    expect(page.locator("#user-tools strong")).to_have_text(ADMIN_USERNAME)
    assert (user.username, user.is_staff, user.is_superuser) == (ADMIN_USERNAME, True, True)
    screenshot(page, "admin-index")


def test_swagger_ui_renders_both_dialects_operations_from_our_own_files(page, live_server):
    # given
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    # when
    page.goto(f"{live_server.url}/api/docs")
    # then
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Saga orchestrator API")
    checkout = page.locator(".opblock-post .opblock-summary-path[data-path='/wdm/orders/checkout/{order_id}']")
    expect(checkout).to_have_count(1)
    expect(page.locator(".opblock-summary-path[data-path='/orders']")).to_have_count(2)  # GET and POST
    assert off_site(requested, live_server) == []
    screenshot(page, "swagger-ui")


def test_redoc_renders_from_our_own_files(page, live_server):
    # given
    requested = []
    page.on("requestfinished", lambda request: requested.append(request.url))
    failed = []
    page.on("requestfailed", lambda request: failed.append((request.url, request.failure)))
    # when
    page.goto(f"{live_server.url}/api/redoc")
    # then
    expect(page.locator("h1").first).to_have_text("Saga orchestrator API (1.0.0)")
    tags = [  # in config/docs.py's order: the walkthrough's
        "points",
        "currencies",
        "orders",
        "events",
        "deadlines",
        "transactions",
        "exchanges",
        "my-page",
        "auth",
        "wdm",
    ]
    expect(page.get_by_role("menuitem")).to_have_text(tags, use_inner_text=True)  # the sidebar
    expect(page.get_by_text("/wdm/orders/checkout/{order_id}", exact=True)).to_have_count(1)
    # headings are the operations' summaries, not their ids (orders_create)
    expect(page.locator("h2", has_text="Place an order")).to_have_count(1)
    expect(page.get_by_text("orders_create")).to_have_count(0)
    # ReDoc's sidebar credits Redocly with an <img> from their CDN: the page's policy blocks it before it leaves.
    assert off_site(requested, live_server) == []
    assert failed == [("https://cdn.redoc.ly/redoc/logo-mini.svg", "csp")]
    screenshot(page, "redoc")


# --- The browsable API's HTML forms, with seed 000's requests -------------------------------


@pytest.fixture
def no_publish(monkeypatch):
    """Placed orders stay PENDING: the outbox message is kept but not sent (no worker in these tests)."""
    monkeypatch.setattr(checkout.outbox, "publish_after_commit", lambda message_id: None)


def test_the_points_form_deposits_seed_000s_points(page, live_server):
    # given
    page.goto(f"{live_server.url}/points")
    # when
    status = submit_post_form(page, "/points", userId="jjy", point="10000")
    # then
    assert status == 201
    assert shown_answer(page) == ("HTTP 201 Created", {"userId": "jjy", "point": 10000})
    assert list(PointAccount.objects.values_list("user_id", "balance")) == [("jjy", 10000)]
    # the form is empty again, not holding the new balance as the next deposit
    assert form_values(page, "userId", "point") == {"userId": "", "point": ""}
    screenshot(page, "points-form-201")


def test_the_orders_form_places_seed_000s_order(page, live_server, usd, no_publish):
    # given
    points_deposit(user_id="jjy", amount=10_000)
    page.goto(f"{live_server.url}/orders")
    # when
    status = submit_post_form(page, "/orders", holderId="jjy", currencyId="1", amount="500")
    # then
    assert status == 201
    order = Order.objects.get()
    status_line, body = shown_answer(page)
    assert status_line == "HTTP 201 Created"
    assert body == {
        "id": order.pk,
        "holderId": "jjy",
        "currencyId": 1,
        "amount": 500,
        "lines": [{"currencyId": 1, "amount": 500, "unitPrice": 1}],
        "totalCost": 500,
        "status": "PENDING",
        "rejectionReason": None,
        "statusText": "PENDING",
        "deadline": order.deadline_at.isoformat().replace("+00:00", "Z"),
        "createdAt": order.created_at.isoformat().replace("+00:00", "Z"),
    }
    assert (order.holder_id, order.status, order.total_cost) == ("jjy", OrderStatus.PENDING, 500)
    assert Saga.objects.filter(order=order).count() == 1
    assert OutboxMessage.objects.filter(published_at=None).count() == 1  # kept for the relay, not sent
    # the form is the order form again, empty; not the answer's fields (status, deadline ...)
    assert form_values(page, "holderId", "currencyId", "amount") == {"holderId": "", "currencyId": "1", "amount": ""}
    expect(page.locator("#post-object-form [name=status]")).to_have_count(0)
    screenshot(page, "orders-form-201")


def test_the_orders_form_explains_how_to_send_several_lines(page, live_server):
    # when
    page.goto(f"{live_server.url}/orders")
    # then
    expect(page.locator("#post-object-form")).to_contain_text(
        "This form places one line (Currency, Amount). For several lines in one order, use the Raw data tab: "
        '{"holderId": "jjy", "lines": [{"currencyId": 1, "amount": 500}, {"currencyId": 2, "amount": 3}]}'
    )
    expect(page.locator("#post-object-form")).not_to_contain_text("Lists are not currently supported")


def test_the_orders_raw_data_form_starts_from_seed_000s_request(page, live_server, usd, no_publish):
    # given
    points_deposit(user_id="jjy", amount=10_000)
    page.goto(f"{live_server.url}/orders")
    page.get_by_role("link", name="Raw data").click()
    content = page.locator("#post-generic-content-form textarea[name=_content]")
    assert json.loads(content.input_value()) == {"holderId": "", "currencyId": 1, "amount": None}
    # when: the blanks filled in, nothing else changed
    content.fill(json.dumps({"holderId": "jjy", "currencyId": 1, "amount": 500}))
    with page.expect_response(lambda response: response.request.method == "POST") as answer:
        page.locator("#post-generic-content-form").get_by_role("button", name="POST").click()
    expect(page.locator(".request-info")).to_have_text("POST /orders")
    # then
    assert answer.value.status == 201
    order = Order.objects.get()
    status_line, body = shown_answer(page)
    assert (status_line, body["id"], body["status"], body["totalCost"]) == (
        "HTTP 201 Created",
        order.pk,
        "PENDING",
        500,
    )
    assert list(order.lines.values_list("currency_id", "amount")) == [(1, 500)]
    screenshot(page, "orders-raw-data-201")


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        pytest.param({"amount": "0"}, {"amount": [TOO_SMALL]}, id="zero"),
        pytest.param({"amount": "-500"}, {"amount": [TOO_SMALL]}, id="negative"),
        pytest.param({"amount": "1.5"}, {"amount": [NOT_AN_INTEGER]}, id="fraction"),
        pytest.param({"amount": "1e3"}, {"amount": [NOT_AN_INTEGER]}, id="exponent"),
        pytest.param({"amount": "1000000001"}, {"amount": [too_large(10**9)]}, id="oversized"),
        pytest.param({"amount": ""}, {"amount": ["This field is required (or give lines)."]}, id="missing"),
        pytest.param({"holderId": "j jy"}, {"holderId": [ID_MESSAGE]}, id="bad-holder"),
        pytest.param({"holderId": ""}, {"holderId": ["This field may not be blank."]}, id="no-holder"),
    ],
)
def test_bad_input_in_the_orders_form_is_a_400_naming_the_field(
    page, live_server, usd, no_publish, fields, errors, request
):
    # given
    typed = {"holderId": "jjy", "currencyId": "1", "amount": "500"} | fields
    page.goto(f"{live_server.url}/orders")
    # when
    status = submit_post_form(page, "/orders", **typed)
    # then
    assert status == 400
    assert shown_answer(page) == ("HTTP 400 Bad Request", errors)
    assert not Order.objects.exists()
    assert not Saga.objects.exists()
    # the form keeps what was typed, with the message under the field
    assert form_values(page, "holderId", "currencyId", "amount") == typed
    [(field, [message])] = errors.items()
    flagged = page.locator("#post-object-form .form-group.has-error")
    expect(flagged.locator("input")).to_have_attribute("name", field)
    expect(flagged.locator(".help-block").first).to_have_text(message)
    screenshot(page, f"orders-form-400-{request.node.callspec.id}")


def test_an_unknown_currency_in_the_orders_form_is_a_400_naming_it(page, live_server, usd, no_publish):
    # given
    page.goto(f"{live_server.url}/orders")
    # a currency the form does not offer (one gone since the page was drawn, or a hand-edited form)
    page.locator("#post-object-form select[name=currencyId]").evaluate("select => select.add(new Option('999', '999'))")
    # when
    status = submit_post_form(page, "/orders", holderId="jjy", currencyId="999", amount="500")
    # then
    assert status == 400
    assert shown_answer(page) == ("HTTP 400 Bad Request", {"currencyId": ["Unknown currency: 999."]})
    assert not Order.objects.exists()
    assert not Saga.objects.exists()
    # the service refused it, not the form's validation: the form is offered afresh
    assert form_values(page, "holderId", "currencyId", "amount") == {"holderId": "", "currencyId": "1", "amount": ""}
    screenshot(page, "orders-form-400-unknown-currency")


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        pytest.param({"point": "0"}, {"point": [TOO_SMALL]}, id="zero"),
        pytest.param({"point": "1e3"}, {"point": [NOT_AN_INTEGER]}, id="exponent"),
        pytest.param({"point": ""}, {"point": [NOT_AN_INTEGER]}, id="missing"),
        pytest.param({"userId": "a/b"}, {"userId": [ID_MESSAGE]}, id="bad-user"),
    ],
)
def test_bad_input_in_the_points_form_is_a_400_naming_the_field(page, live_server, fields, errors):
    # given
    typed = {"userId": "jjy", "point": "10000"} | fields
    page.goto(f"{live_server.url}/points")
    # when
    status = submit_post_form(page, "/points", **typed)
    # then
    assert status == 400
    assert shown_answer(page) == ("HTTP 400 Bad Request", errors)
    assert not PointAccount.objects.exists()
    assert form_values(page, "userId", "point") == typed


def test_the_orders_page_shows_the_form_above_the_list_with_a_currency_choice(page, live_server, usd):
    # given
    for _ in range(30):
        Order.objects.create(holder_id="jjy")
    # when
    page.goto(f"{live_server.url}/orders")
    # then: the form is on the first screen, above the answer's list of orders
    form = page.locator("#post-object-form").bounding_box()
    answer = page.locator(".response-info").bounding_box()
    assert form["y"] + form["height"] <= answer["y"]
    assert form["y"] + form["height"] <= page.viewport_size["height"]
    expect(page.locator("#post-object-form label").first).to_have_text("Holder id")
    expect(page.locator("#post-object-form select[name=currencyId] option")).to_have_text(
        ["1 · USD (1 point a unit, 1000000 in stock)"]
    )
    expect(page.locator(".content-main .pull-left code").first).to_have_text("?holderId=jjy")  # Markdown, not backticks
    screenshot(page, "orders-form-above-the-list")


def test_the_api_root_names_the_product_and_links_every_entry_point(page, live_server):
    # when a newcomer opens the address make run printed
    page.goto(f"{live_server.url}/")
    # then the page is the product's, its description readable, and every entry point a link
    expect(page).to_have_title("Saga orchestrator API")
    expect(page.locator(".content-main h1")).to_have_text("Saga orchestrator API")
    answer = page.locator(".response-info")
    for path in ["/orders", "/points", "/events/stream", "/api/redoc#tag/wdm", "/readyz", "/admin/dashboard/"]:
        expect(answer.locator(f"a[href='{live_server.url}{path}']")).to_have_count(1)
    screenshot(page, "api-root")
    # and a link leads to its list, with its form
    answer.locator(f"a[href='{live_server.url}/orders']").click()
    expect(page.locator(".content-main h1")).to_have_text("Orders")
    expect(page.locator("#post-object-form")).to_be_visible()
