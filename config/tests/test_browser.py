"""The pages people use, in a real browser: the admin login, Swagger UI and ReDoc, the browsable API's forms.

Debian's Chromium, headless, driven by Playwright (config/tests/browser.py); each test leaves
a full-page screenshot in test-artifacts/screenshots/.
"""

import pytest
from playwright.sync_api import expect

from config.tests.browser import ADMIN_USERNAME, admin_login, screenshot

pytestmark = pytest.mark.browser


def test_admin_login_through_the_login_form_shows_the_admin_index(page, live_server):
    # when
    user = admin_login(page, live_server)
    # then
    assert page.url == f"{live_server.url}/admin/"
    expect(page.locator("#content h1")).to_have_text("Site administration")
    expect(page.locator("#user-tools strong")).to_have_text(ADMIN_USERNAME)
    assert (user.username, user.is_staff, user.is_superuser) == (ADMIN_USERNAME, True, True)
    screenshot(page, "admin-index")
