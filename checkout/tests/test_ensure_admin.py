"""The first superuser: admin / admin only in a local run, else DJANGO_SUPERUSER_PASSWORD or a random one shown once."""

import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

pytestmark = pytest.mark.django_db

SHOWN = re.compile(r"with the password (\S+) \(shown this once")


@pytest.fixture(autouse=True)
def no_superuser_variables(monkeypatch):
    monkeypatch.delenv("DJANGO_SUPERUSER_USERNAME", raising=False)
    monkeypatch.delenv("DJANGO_SUPERUSER_PASSWORD", raising=False)


def ensure_admin(*args: str) -> str:
    out = io.StringIO()
    call_command("ensure_admin", *args, stdout=out)
    return out.getvalue()


def superusers() -> list:
    return list(get_user_model().objects.filter(is_superuser=True))


def test_a_local_run_with_debug_gets_admin_admin(settings):
    # given make run on its embedded servers, DEBUG on
    settings.DEBUG = True
    # when
    printed = ensure_admin("--local")
    # then
    [user] = superusers()
    assert (user.username, user.check_password("admin"), user.is_staff) == ("admin", True, True)
    assert "with the password 'admin'" in printed


@pytest.mark.parametrize(
    ("args", "debug"),
    [
        pytest.param(["--local"], False, id="make-run-production-profile"),
        pytest.param([], True, id="debug-on-elsewhere"),
        pytest.param([], False, id="compose-or-deployment"),
    ],
)
def test_anywhere_else_the_password_is_random_and_shown_once(settings, args, debug):
    # given
    settings.DEBUG = debug
    # when
    first = ensure_admin(*args)
    second = ensure_admin(*args)
    # then
    [user] = superusers()
    [password] = SHOWN.findall(first)
    assert user.username == "admin" and user.check_password(password)
    assert not user.check_password("admin") and len(password) >= 20
    assert second == ""  # created once, shown once


@pytest.mark.parametrize("local", [True, False])
def test_djangos_superuser_variables_choose_the_user_and_are_never_printed(settings, monkeypatch, local):
    # given
    settings.DEBUG = True
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "ops")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-chosen-secret")
    # when
    printed = ensure_admin(*(["--local"] if local else []))
    # then
    [user] = superusers()
    assert (user.username, user.check_password("a-long-chosen-secret")) == ("ops", True)
    assert "a-long-chosen-secret" not in printed and "DJANGO_SUPERUSER_PASSWORD" in printed


def test_an_existing_superuser_is_left_alone(settings):
    # given
    settings.DEBUG = True
    get_user_model().objects.create_superuser("root", "", "their-own-password")
    # when
    printed = ensure_admin("--local")
    # then
    [user] = superusers()
    assert (user.username, user.check_password("their-own-password"), printed) == ("root", True, "")
