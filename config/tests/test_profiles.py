"""`make run`'s profiles: dev (the default) and production, what the benchmarks measure."""

import json
import os
import subprocess
import sys

import pytest

from config import stack


@pytest.fixture
def clean_env(monkeypatch):
    for name in {"SAGA_PROFILE", "DJANGO_SECRET_KEY", "SAGA_API_MODE", "WEB_BIND"} | {
        name for p in stack.PROFILES.values() for name in p
    }:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_dev_is_the_default_and_keeps_debug_on(clean_env):
    assert stack._apply_profile() == "dev"
    assert os.environ["DJANGO_DEBUG"] == "1"
    assert "SAGA_TASK_EVENTS" not in os.environ


def test_production_turns_off_debug_task_events_and_task_lines_with_a_fresh_secret(clean_env):
    clean_env.setenv("SAGA_PROFILE", "production")
    assert stack._apply_profile() == "production"
    assert {name: os.environ[name] for name in stack.PROFILES["production"]} == {
        "DJANGO_DEBUG": "0",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SAGA_TASK_EVENTS": "0",
        "FLOWER_ENABLE_EVENTS": "false",
        "SAGA_TASK_LOG_LINES": "0",
        "SAGA_EVENT_LOG_LINES": "0",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_SECURE_HSTS_SECONDS": "0",
        "DJANGO_SESSION_COOKIE_SECURE": "0",
        "DJANGO_CSRF_COOKIE_SECURE": "0",
    }
    assert len(os.environ["DJANGO_SECRET_KEY"]) >= 50


def test_what_the_environment_sets_wins_over_the_profile(clean_env):
    clean_env.setenv("SAGA_PROFILE", "production")
    clean_env.setenv("SAGA_TASK_EVENTS", "1")
    stack._apply_profile()
    assert os.environ["SAGA_TASK_EVENTS"] == "1"


def test_an_unknown_profile_is_refused(clean_env):
    clean_env.setenv("SAGA_PROFILE", "fast")
    with pytest.raises(SystemExit, match="choose one of dev, production"):
        stack._apply_profile()


@pytest.mark.parametrize(("lines", "task_lines_shown"), [("1", True), ("0", False)])
@pytest.mark.parametrize(("event_lines", "event_lines_shown"), [("1", True), ("0", False)])
def test_task_and_event_lines_follow_their_settings_and_access_lines_stay(
    lines, task_lines_shown, event_lines, event_lines_shown
):
    # given the settings as a worker loads them
    probe = (
        "import django, json, logging; django.setup(); from django.conf import settings;"
        "print(json.dumps({name: logging.getLogger(name).isEnabledFor(logging.INFO)"
        " for name in ('celery.app.trace', 'celery.worker.strategy', 'checkout.events', 'config.access')}))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "SAGA_TASK_LOG_LINES": lines,
        "SAGA_EVENT_LOG_LINES": event_lines,
    }
    # when
    shown = json.loads(subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, check=True).stdout)
    # then
    assert shown == {
        "celery.app.trace": task_lines_shown,
        "celery.worker.strategy": task_lines_shown,
        "checkout.events": event_lines_shown,
        "config.access": True,
    }


@pytest.mark.parametrize(
    ("profile", "embedded", "local"),
    [
        pytest.param("dev", True, True, id="dev-on-embedded-servers"),
        pytest.param("production", True, False, id="production-on-embedded-servers"),
        pytest.param("dev", False, False, id="dev-on-your-own-servers"),
    ],
)
def test_only_the_dev_profile_on_embedded_servers_is_a_local_run(clean_env, profile, embedded, local):
    """A local run's admin and Flower may keep admin / admin (ensure_admin --local); nothing else's."""
    # given
    clean_env.setenv("SAGA_PROFILE", profile)
    stack._apply_profile()
    # when / then
    assert stack.local_run(embedded_database=embedded) is local


@pytest.mark.parametrize(
    ("profile", "bind", "mode"),
    [
        pytest.param("dev", "127.0.0.1", "local", id="dev"),
        pytest.param("production", "127.0.0.1", "protected", id="production"),
        pytest.param("dev", "0.0.0.0", "protected", id="dev-bound-to-every-interface"),
    ],
)
def test_make_run_tells_its_processes_the_api_mode_which_their_settings_follow(clean_env, profile, bind, mode):
    # given: make run on its embedded servers
    clean_env.setenv("SAGA_PROFILE", profile)
    clean_env.setenv("WEB_BIND", bind)
    stack._apply_profile()
    # when
    stack.api_mode_for_processes(embedded_database=True)
    # then: the web and the workers, which see DATABASE_URL set to the embedded server, load that mode
    probe = "import django; django.setup(); from django.conf import settings; print(settings.SAGA_API_MODE)"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:1/saga",
        "DJANGO_SECRET_KEY": "x" * 50,
    }
    loaded = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert os.environ["SAGA_API_MODE"] == mode
    assert loaded.stdout.split()[-1] == mode
