"""The pages people use, in a real browser: the admin login, Swagger UI and ReDoc, the browsable API's forms.

Debian's Chromium, headless, driven by Playwright (config/tests/browser.py); each test leaves
a full-page screenshot in test-artifacts/screenshots/.
"""

import pytest
from playwright.sync_api import expect

from config.tests.browser import ADMIN_USERNAME, admin_login, screenshot

pytestmark = pytest.mark.browser


def off_site(urls: list[str], live_server) -> list[str]:
    """The requests a page made to anywhere but the live server (a CDN, say)."""
    return [url for url in urls if not url.startswith((f"{live_server.url}/", "data:", "blob:"))]


def test_admin_login_through_the_login_form_shows_the_admin_index(page, live_server):
    # when
    user = admin_login(page, live_server)
    # then
    assert page.url == f"{live_server.url}/admin/"
    expect(page.locator("#content h1")).to_have_text("Site administration")
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
    page.on("request", lambda request: requested.append(request.url))
    # when
    page.goto(f"{live_server.url}/api/redoc")
    # then
    expect(page.locator("h1").first).to_have_text("Saga orchestrator API (1.0.0)")
    tags = ["currencies", "deadlines", "events", "exchanges", "my-page", "orders", "points", "transactions", "wdm"]
    expect(page.get_by_role("menuitem")).to_have_text(tags, use_inner_text=True)  # the sidebar
    expect(page.get_by_text("/wdm/orders/checkout/{order_id}", exact=True)).to_have_count(1)
    # ReDoc's sidebar credits Redocly with an <img> from their CDN, hidden when it fails to load;
    # no setting turns it off. Nothing else leaves the server.
    assert off_site(requested, live_server) == ["https://cdn.redoc.ly/redoc/logo-mini.svg"]
    screenshot(page, "redoc")
