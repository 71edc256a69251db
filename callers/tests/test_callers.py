"""The modes, the switches and the kinds of callers (ADR 0012), beyond the route-by-route matrix."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.test import APIClient

from callers.checks import open_modes
from callers.models import Scope, ServiceKey
from callers.tokens import user_token_mint
from checkout.services import order_start_empty
from config.modes import api_mode_default
from orders.models import Order
from points.models import PointAccount
from points.services import points_deposit


@pytest.fixture
def protected(settings):
    settings.SAGA_API_MODE = "protected"


def client_with(authorization: str | None = None) -> APIClient:
    client = APIClient()
    if authorization:
        client.credentials(HTTP_AUTHORIZATION=authorization)
    return client


def service_key(*scopes: str) -> str:
    return "Api-Key " + ServiceKey.objects.create_key(name="test", scopes=list(scopes))[1]


def test_batch_init_is_not_found_unless_switched_on_even_for_a_key_with_its_scope(db, protected, settings):
    client = client_with(service_key(Scope.BATCH_INIT))
    settings.SAGA_BATCH_INIT = False
    answer = client.post("/wdm/payment/batch_init/3/100")
    assert answer.status_code == 404
    assert "SAGA_BATCH_INIT" in answer.json()["detail"]
    assert PointAccount.objects.count() == 0
    settings.SAGA_BATCH_INIT = True
    assert client.post("/wdm/payment/batch_init/3/100").status_code == 200
    assert PointAccount.objects.count() == 3


def test_batch_init_is_off_by_default_in_the_local_mode_too(db, settings):
    settings.SAGA_BATCH_INIT = False
    assert client_with().post("/wdm/stock/batch_init/3/10/1").status_code == 404


def test_wdm_open_serves_wdm_without_credentials_and_nothing_else(db, protected, settings):
    settings.SAGA_WDM_OPEN = True
    assert client_with().post("/wdm/payment/create_user").status_code == 200
    assert client_with().get("/points").status_code == 401
    assert client_with().post("/points", {"userId": "x", "point": 5}, format="json").status_code == 401


def test_the_local_mode_refuses_a_form_posted_from_another_site(db):
    # given: the open local mode, and a page on evil.example that posts a form to 127.0.0.1
    client = client_with()
    # when
    answer = client.post(
        "/points", "userId=mallory&point=1000", content_type="text/plain", HTTP_ORIGIN="http://evil.example"
    )
    fetched = client.post(
        "/wdm/payment/add_funds/alice/1000", HTTP_SEC_FETCH_SITE="cross-site", HTTP_ORIGIN="http://evil.example"
    )
    # then
    assert answer.status_code == 403, answer.content
    assert fetched.status_code == 403
    assert PointAccount.objects.count() == 0
    # while the same origin, and a client that sends no Origin at all (httpie, curl), are served
    same = client.post("/points", {"userId": "alice", "point": 5}, format="json", HTTP_ORIGIN="http://testserver")
    assert same.status_code == 201
    assert client.post("/points", {"userId": "alice", "point": 5}, format="json").status_code == 201


def test_an_end_user_lists_only_their_own_orders_and_events(db, protected, usd):
    # given
    for user in ("alice", "bob"):
        points_deposit(user_id=user, amount=100)
        order_start_empty(holder_id=user)
    alice = client_with(f"Bearer {user_token_mint(user_id='alice')}")
    # then
    assert {order["holderId"] for order in alice.get("/orders").json()["results"]} == {"alice"}
    assert [account["userId"] for account in alice.get("/points").json()["results"]] == ["alice"]
    assert alice.get("/events/stream").status_code == 403  # a user follows one of their own orders
    bobs = Order.objects.get(holder_id="bob").pk
    assert alice.get(f"/events?orderId={bobs}").status_code == 404


def test_the_event_stream_refuses_a_duration_that_is_not_a_whole_number_of_seconds(db):
    for seconds in ("1e3", "-5", "0", "301", "abc", "1_0"):
        answer = client_with().get(f"/events/stream?seconds={seconds}")
        assert answer.status_code == 400, seconds
        assert "seconds" in answer.json()


def test_an_idempotency_key_is_per_caller(db, protected):
    # given: two services that happen to pick the same key
    first, second = client_with(service_key(Scope.POINTS_MINT)), client_with(service_key(Scope.POINTS_MINT))
    # when
    one = first.post("/wdm/payment/create_user", HTTP_IDEMPOTENCY_KEY="k-1")
    other = second.post("/wdm/payment/create_user", HTTP_IDEMPOTENCY_KEY="k-1")
    again = first.post("/wdm/payment/create_user", HTTP_IDEMPOTENCY_KEY="k-1")
    # then: the second is a request of its own, never a replay of the first service's answer
    assert one.json()["user_id"] != other.json()["user_id"]
    assert "Idempotent-Replayed" not in other.headers
    assert again.json() == one.json() and again.headers["Idempotent-Replayed"] == "true"


def test_an_operator_session_needs_the_csrf_token_to_write(db, protected, django_user_model):
    # given: a staff member logged in to the admin
    ops = django_user_model.objects.create_user("ops", password="long-enough-secret", is_staff=True)
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(ops)
    # then: reads are served; a write without the CSRF token is refused, with it served
    assert client.get("/points").status_code == 200
    assert client.post("/points", {"userId": "a", "point": 5}, format="json").status_code == 403
    client.get("/admin/")  # sets the csrftoken cookie
    token = client.cookies["csrftoken"].value
    assert client.post("/points", {"userId": "a", "point": 5}, format="json", HTTP_X_CSRFTOKEN=token).status_code == 201


def test_a_logged_in_user_who_is_not_staff_is_anonymous(db, protected, django_user_model):
    someone = django_user_model.objects.create_user("someone", password="long-enough-secret")
    client = APIClient()
    client.force_login(someone)
    assert client.get("/points").status_code == 401


def test_an_expired_token_is_a_401(db, protected, settings):
    token = user_token_mint(user_id="alice")
    settings.SAGA_USER_TOKEN_SECONDS = -1
    answer = client_with(f"Bearer {token}").get("/points/alice")
    assert answer.status_code == 401
    assert "expired" in answer.json()["detail"]


def test_the_apikey_command_creates_lists_revokes_and_mints_tokens(db, protected):
    # when
    out = StringIO()
    call_command(
        "apikey", "create", "shop", "--scope", "orders:place", "--scope", "read", stdout=out, stderr=StringIO()
    )
    key = out.getvalue().strip()
    prefix = key.split(".")[0]
    # then
    assert client_with(f"Api-Key {key}").get("/orders").status_code == 200
    listing = StringIO()
    call_command("apikey", "list", stdout=listing)
    assert f"{prefix}  active" in listing.getvalue() and "[orders:place read]" in listing.getvalue()
    call_command("apikey", "revoke", prefix, stdout=StringIO())
    assert client_with(f"Api-Key {key}").get("/orders").status_code == 401
    with pytest.raises(CommandError):
        call_command("apikey", "revoke", "nosuch", stdout=StringIO())
    token = StringIO()
    call_command("apikey", "token", "alice", stdout=token)
    assert client_with(f"Bearer {token.getvalue().strip()}").get("/orders").status_code == 200
    with pytest.raises(CommandError):
        call_command("apikey", "token", "not:an id", stdout=StringIO())


@pytest.mark.parametrize(
    "mode, wdm_open, bind, errors",
    [
        ("local", False, "127.0.0.1", []),
        ("local", False, "0.0.0.0", ["callers.E002"]),
        ("protected", True, "127.0.0.1", []),
        ("protected", True, "0.0.0.0", ["callers.E003"]),
        ("protected", False, "0.0.0.0", []),
        ("open", False, "127.0.0.1", ["callers.E001"]),
    ],
)
def test_the_open_modes_are_refused_on_a_bind_other_than_loopback(settings, mode, wdm_open, bind, errors):
    settings.SAGA_API_MODE, settings.SAGA_WDM_OPEN = mode, wdm_open
    settings.WEB_BIND = bind
    assert [error.id for error in open_modes()] == errors


@pytest.mark.parametrize(
    "embedded, debug, bind, mode",
    [
        (True, True, "127.0.0.1", "local"),  # make run on a laptop
        (True, False, "127.0.0.1", "protected"),  # SAGA_PROFILE=production make run
        (True, True, "0.0.0.0", "protected"),  # make run bound to the network
        (False, True, "127.0.0.1", "protected"),  # DATABASE_URL set: compose, a deployment
    ],
)
def test_only_make_run_on_a_laptop_defaults_to_the_open_mode(embedded, debug, bind, mode):
    assert api_mode_default(embedded=embedded, debug=debug, web_bind=bind) == mode


def test_readyz_says_who_may_call(db, protected, settings):
    settings.SAGA_WDM_OPEN = True
    assert client_with().get("/readyz").json()["access"] == {"mode": "protected", "wdmOpen": True, "batchInit": False}


def test_the_apikey_command_loads_in_a_fresh_process():
    """Its first import of ours is config.api, which DRF's views module names back while it loads."""
    import subprocess
    import sys

    from config import stack

    answer = subprocess.run(
        [sys.executable, "manage.py", "apikey", "--help"],
        cwd=stack.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert answer.returncode == 0, answer.stderr
    assert "Create, list or revoke service API keys" in answer.stdout


def test_the_local_mode_answers_only_to_this_machines_names(db, settings):
    """A page whose name an attacker rebinds to 127.0.0.1 (DNS rebinding) sends that name as Host."""
    import os
    import subprocess
    import sys

    # given: the settings of make run's dev profile
    probe = "import django; django.setup(); from django.conf import settings; print(settings.ALLOWED_HOSTS)"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.base", "DJANGO_DEBUG": "1"}
    env.pop("DJANGO_ALLOWED_HOSTS", None)
    loaded = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert loaded.stdout.splitlines()[-1] == "['127.0.0.1', 'localhost', '[::1]']"
    # when: a rebound page posts to the open API under its own name
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]
    rebound = client_with().post(
        "/points",
        {"userId": "mallory", "point": 5},
        format="json",
        HTTP_HOST="evil.example:8088",
        HTTP_ORIGIN="http://evil.example:8088",
    )
    # then
    assert rebound.status_code == 400
    assert PointAccount.objects.count() == 0


def test_options_of_a_post_only_route_needs_what_its_post_needs(db, protected):
    assert client_with().options("/wdm/payment/create_user").status_code == 401
    assert client_with(service_key(Scope.READ)).options("/wdm/payment/create_user").status_code == 403
    assert client_with(service_key(Scope.POINTS_MINT)).options("/wdm/payment/create_user").status_code == 200


@pytest.mark.parametrize("page", ["\u1091", "\u0661", "1_0", " 1"])  # a Myanmar and an Arabic-Indic 1
def test_a_page_number_in_other_digits_is_not_a_page(db, page):
    """Python's int() reads "႑" (a Myanmar digit) as 1; the schema's integer does not (schemathesis found it)."""
    answer = client_with().get("/transactions", {"page": page})
    assert answer.status_code == 404
    assert "Invalid page" in answer.json()["detail"]
    assert client_with().get("/transactions", {"page": "1"}).status_code == 200
    assert client_with().get("/transactions", {"page": "last"}).status_code == 200
