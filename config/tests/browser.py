"""Real-browser tests: Playwright driving Debian's Chromium (headless) against the live server.

`make test` installs Debian's chromium when it is missing (config/stack.py) and passes its
path in SAGA_CHROMIUM; we never download Playwright's own browser builds. The fixtures
(`browser`, `page`) live in the root conftest; tests use these helpers:

    def test_something(page, live_server):
        admin_login(page, live_server)
        page.goto(live_server.url + "/admin/orders/order/")
        screenshot(page, "orders")
"""

from pathlib import Path

from playwright.sync_api import Browser, Page, Playwright, expect

from config.stack import chromium_path

ARTIFACTS = Path(__file__).resolve().parent.parent.parent / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
VIEWPORT = {"width": 1400, "height": 900}
# Without the background-networking flags Chromium keeps dialling Google's hosts, which this
# closed network refuses; Playwright gives every launch a fresh, empty user-data-dir.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Slow pages on a busy 2-core machine: an expectation waits up to 60 s (Playwright's default is 5).
# It passes as soon as it holds, so the wait only bounds how long a failure takes to show: a
# busy machine makes the browser tests slower, never red (ReDoc took more than 15 s on one).
BROWSER_TIMEOUT_MS = 60_000
expect.set_options(timeout=BROWSER_TIMEOUT_MS)
ADMIN_USERNAME = "alice"
ADMIN_PASSWORD = "alice-saga-admin-1"


def launch_chromium(playwright: Playwright) -> Browser:
    path = chromium_path()
    if not Path(path).is_file():
        raise RuntimeError(
            f"the browser tests need Chromium at {path}: run them with `make test`, which installs "
            "Debian's chromium, or `apt-get install chromium`, or set SAGA_CHROMIUM"
        )
    return playwright.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS, headless=True)


def admin_login(page: Page, live_server, *, username: str = ADMIN_USERNAME, password: str = ADMIN_PASSWORD):
    """Create a staff superuser and log in through the admin's own login form; return the user.

    Leaves the page on the admin index.
    """
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_superuser(username=username, password=password, email="")
    login_form(page, live_server, username, password)
    return user


def operator_login(page: Page, live_server, *, username: str = "oncall", password: str = ADMIN_PASSWORD):
    """Create a staff user in the Operators group (not a superuser), log in through the login form; the user.

    Leaves the page on the admin index.
    """
    from django.contrib.auth import get_user_model

    from config.operators import operators_group_ensure

    user = get_user_model().objects.create_user(username=username, password=password, is_staff=True)
    user.groups.add(operators_group_ensure())
    login_form(page, live_server, username, password)
    return user


def login_form(page: Page, live_server, username: str, password: str) -> None:
    """Log in through the admin's own login form; leaves the page on the admin index."""
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    expect(page).to_have_url(f"{live_server.url}/admin/")
    expect(page.locator("#logout-form")).to_be_attached()  # the admin's header, for a logged-in user only


def screenshot(page: Page, name: str) -> Path:
    """Save the whole page as test-artifacts/screenshots/NAME.png and return its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
