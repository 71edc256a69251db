"""Admin logins are throttled (django-axes): past AXES_FAILURE_LIMIT wrong passwords, even the right one is refused."""

import time
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

pytestmark = pytest.mark.django_db

PASSWORD = "the-right-password"
ATTACKER, OPERATOR = "203.0.113.7", "198.51.100.20"


@pytest.fixture
def admin_user_():
    return get_user_model().objects.create_superuser("admin", "", PASSWORD)


def log_in(client: Client, password: str):
    return client.post("/admin/login/?next=/admin/", {"username": "admin", "password": password})


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_the_right_password_before_the_limit_logs_in(admin_user_, settings):
    # given one wrong password less than the limit
    client = Client(REMOTE_ADDR=OPERATOR)
    wrong = [log_in(client, "guess").status_code for _ in range(settings.AXES_FAILURE_LIMIT - 1)]
    # when
    right = log_in(client, PASSWORD)
    # then
    assert wrong == [200] * (settings.AXES_FAILURE_LIMIT - 1)  # the login form again, with its error
    assert (right.status_code, right["Location"], logged_in(client)) == (302, "/admin/", True)


def test_fifteen_wrong_passwords_lock_the_admin_out_even_with_the_right_one(admin_user_, settings):
    # given
    assert settings.AXES_FAILURE_LIMIT == 5
    client = Client(REMOTE_ADDR=ATTACKER)
    # when
    wrong = [log_in(client, f"guess-{n}").status_code for n in range(15)]
    right = log_in(client, PASSWORD)
    # then from the fifth wrong password on, every try is refused, the right one too
    assert wrong == [200] * 4 + [429] * 11
    assert right.status_code == 429 and "too many login attempts" in right.content.decode()
    assert not logged_in(client)
    # and the lockout is of that username from that address: the operator, elsewhere, still logs in
    operator = Client(REMOTE_ADDR=OPERATOR)
    assert (log_in(operator, PASSWORD).status_code, logged_in(operator)) == (302, True)


def test_the_lockout_ends_after_the_cool_off(admin_user_, settings):
    # given a locked-out username and address
    settings.AXES_COOLOFF_TIME = timedelta(seconds=1)
    client = Client(REMOTE_ADDR=ATTACKER)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "guess")
    assert log_in(client, PASSWORD).status_code == 429
    # when the cool-off passed without another try
    time.sleep(1.5)
    answer = log_in(client, PASSWORD)
    # then
    assert (answer.status_code, logged_in(client)) == (302, True)
