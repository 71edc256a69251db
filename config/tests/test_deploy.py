"""Production settings pass `manage.py check --deploy`, and make run's production profile still serves plain http.

The variables are the README's "Production variables" block, read from the README itself, so the
two cannot drift apart; each `<placeholder>` gets a random value.
"""

import json
import os
import re
import secrets
import subprocess
import sys

import pytest

from config import stack

README = (stack.BASE_DIR / "README.md").read_text()
PLACEHOLDER = re.compile(r"<[^<>]*>")


def readme_production_variables() -> dict[str, str]:
    """The `NAME=value` lines of the fenced block under README's `### Production variables`."""
    section = README.split("\n### Production variables\n", 1)[1]
    block = section.split("```", 2)[1]
    variables = {}
    for line in block.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, value = line.split("=", 1)
        variables[name.strip()] = PLACEHOLDER.sub(lambda _: secrets.token_urlsafe(50), value.strip())
    return variables


def settings_env(**variables: str) -> dict[str, str]:
    """This environment without any Django or saga setting of its own, with `variables`, on the base settings."""
    kept = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DJANGO_", "SAGA_", "DATABASE_", "REDIS_", "CELERY_", "FLOWER_", "AXES_"))
    }
    return {**kept, "DJANGO_SETTINGS_MODULE": "config.settings.base", **variables}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=stack.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_readme_documents_the_variables_production_needs():
    variables = readme_production_variables()
    assert {"DJANGO_DEBUG", "DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL"} <= set(variables)
    assert variables["DJANGO_DEBUG"] == "0"
    assert len(variables["DJANGO_SECRET_KEY"]) >= 50


def test_check_deploy_finds_nothing_with_the_production_variables():
    # given the README's production variables, and nothing else of ours
    env = settings_env(**readme_production_variables())
    # when
    checked = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    # then
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "System check identified no issues" in checked.stdout
    assert "WARNINGS" not in checked.stdout + checked.stderr


def test_debug_off_is_https_only_by_default():
    # given
    env = settings_env(**readme_production_variables())
    # when
    values = json.loads(probe(env))
    # then
    assert values == {
        "SECURE_SSL_REDIRECT": True,
        "SECURE_REDIRECT_EXEMPT": [r"^healthz$", r"^readyz$"],
        "SECURE_HSTS_SECONDS": 365 * 24 * 3600,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": True,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_PROXY_SSL_HEADER": None,
        "redirects": {"/healthz": None, "/readyz": None, "/admin/login/": "https://saga.example.com/admin/login/"},
    }


@pytest.fixture
def production_profile(monkeypatch):
    for name in {"SAGA_PROFILE", "DJANGO_SECRET_KEY"} | {name for p in stack.PROFILES.values() for name in p}:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SAGA_PROFILE", "production")
    stack._apply_profile()
    return {name: os.environ[name] for name in {"DJANGO_SECRET_KEY", *stack.PROFILES["production"]}}


def test_make_runs_production_profile_serves_plain_http(production_profile):
    # given make run's production profile on its own servers (DATABASE_URL set, as the launcher sets it)
    env = settings_env(**production_profile, DATABASE_URL="postgres://saga@127.0.0.1:5432/saga")
    # when
    values = json.loads(probe(env, host="127.0.0.1"))
    # then nothing sends a browser to https, nor keeps a cookie from plain http
    assert values == {
        "SECURE_SSL_REDIRECT": False,
        "SECURE_REDIRECT_EXEMPT": [r"^healthz$", r"^readyz$"],
        "SECURE_HSTS_SECONDS": 0,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": True,
        "SESSION_COOKIE_SECURE": False,
        "CSRF_COOKIE_SECURE": False,
        "SECURE_PROXY_SSL_HEADER": None,
        "redirects": {"/healthz": None, "/readyz": None, "/admin/login/": None},
    }


PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.middleware.security import SecurityMiddleware
from django.test import RequestFactory
names = ["SECURE_SSL_REDIRECT", "SECURE_REDIRECT_EXEMPT", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS",
         "SECURE_HSTS_PRELOAD", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_PROXY_SSL_HEADER"]
values = {name: getattr(settings, name) for name in names}
security = SecurityMiddleware(lambda request: None)
answers = {path: security.process_request(RequestFactory().get(path, HTTP_HOST=HOST)) for path in PATHS}
values["redirects"] = {path: answer and answer["Location"] for path, answer in answers.items()}
print(json.dumps(values))
"""


def probe(env: dict[str, str], *, host: str = "saga.example.com") -> str:
    """The security settings as a web process loads them, and where plain-http GETs of the probes and the admin go."""
    script = f"HOST = {host!r}\nPATHS = ['/healthz', '/readyz', '/admin/login/']\n{PROBE}"
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=stack.BASE_DIR, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.strip().splitlines()[-1]
