"""docker-compose.yml is a valid Compose file that runs the Procfile's processes, a worker service per queue.

No Docker engine is needed: the file is checked against the official Compose Specification schema,
`schema/compose-spec.json` of https://github.com/compose-spec/compose-spec (branch master), as
vendored (with its Apache-2.0 licence) by the pinned check-jsonschema==0.39.0 package, file
check_jsonschema/builtin_schemas/vendor/compose-spec.json,
sha256 d549057ebc2925f39f62799eab0db7b9e2c18b35b6c00595199116da3ed10e64 (JSON Schema draft 2020-12).
"""

import copy
import json
import re
import secrets
import shlex
import subprocess
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
import yaml
from celery.utils.nodenames import host_format

from config.celery import SERVICE_QUEUES
from conftest import _celery_env

ROOT = Path(__file__).resolve().parent.parent.parent
# A worker service per queue, named as its Procfile line (`docker compose up --scale exchanges=4`).
WORKERS = {queue: queue for queue in ("orders", "exchanges", "points", "checkout")}
SERVICES = {"postgres", "redis", "migrate", "web", *WORKERS, "beat", "flower"}
PORT_DEFAULT = re.compile(r"\$\{[A-Z_]+:-(\d+)\}")
# make run listens on the loopback unless told otherwise; a container listens on every interface of its own
BIND_DEFAULT = re.compile(r"\$\{(?:WEB|FLOWER)_BIND:-127\.0\.0\.1\}")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    source = resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    schema = json.loads(source.read_text(encoding="utf-8"))
    assert schema["title"] == "Compose Specification"
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def argv(command: str | list[str]) -> list[str]:
    return shlex.split(command) if isinstance(command, str) else list(command)


def option(args: list[str], name: str) -> str:
    assert args.count(name) == 1, f"{name} must appear exactly once in {args}"
    return args[args.index(name) + 1]


def test_valid_against_the_compose_specification(compose, validator):
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(compose)]
    assert errors == []


def test_the_schema_rejects_a_broken_file(compose, validator):
    broken = copy.deepcopy(compose)
    broken["services"]["web"]["depends_on"]["migrate"]["condition"] = "service_done"
    broken["services"]["web"]["command_line"] = "typo"
    assert len(list(validator.iter_errors(broken))) >= 2


def test_services_are_exactly_the_stack(compose):
    assert set(compose["services"]) == SERVICES


def test_each_worker_consumes_exactly_its_own_queue(compose):
    for service, queue in WORKERS.items():
        args = argv(compose["services"][service]["command"])
        assert args[:4] == ["celery", "-A", "config", "worker"]
        assert option(args, "-Q").split(",") == [queue]
        assert option(args, "-n") == f"{queue}@%h"


def test_every_celery_queue_has_a_worker(compose):
    consumed = {option(argv(compose["services"][s]["command"]), "-Q") for s in WORKERS}
    assert set(SERVICE_QUEUES) <= consumed
    assert set(SERVICE_QUEUES) == set(WORKERS.values())


def test_commands_are_the_procfile_lines(compose):
    for line in (ROOT / "Procfile").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, command = line.split(":", 1)
        # compose restarts crashed processes itself (restart: unless-stopped); make run needs config.supervise
        command = command.strip().removeprefix("python -m config.supervise ")
        expected = argv(BIND_DEFAULT.sub("0.0.0.0", PORT_DEFAULT.sub(r"\1", command)))
        assert argv(compose["services"][name]["command"]) == expected, name
    web = compose["services"]["web"]["command"]
    assert argv(web)[:4] == ["gunicorn", "-c", "python:config.gunicorn", "config.wsgi"] and "0.0.0.0:8088" in argv(web)
    assert "--scheduler" in argv(compose["services"]["beat"]["command"])
    assert option(argv(compose["services"]["beat"]["command"]), "--scheduler") == (
        "django_celery_beat.schedulers:DatabaseScheduler"
    )
    assert compose["services"]["web"]["ports"] == ["${WEB_PUBLISH:-127.0.0.1}:8088:8088"]
    assert compose["services"]["flower"]["ports"] == ["${FLOWER_PUBLISH:-127.0.0.1}:5555:5555"]


def test_startup_order_and_health(compose):
    services = compose["services"]
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"]
    assert services["redis"]["healthcheck"]["test"][-2:] == ["redis-cli", "ping"]
    assert services["postgres"]["image"] == "postgres:16" and services["redis"]["image"] == "redis:7"
    healthy = {"condition": "service_healthy"}
    for name in SERVICES - {"postgres", "redis"}:
        depends_on = services[name]["depends_on"]
        assert depends_on["postgres"] == healthy and depends_on["redis"] == healthy, name
    for name in {"web", "beat", *WORKERS}:
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}, name
    steps = [step.strip() for step in argv(services["migrate"]["command"])[-1].split("&&")]
    assert steps == [
        "python manage.py migrate --noinput",
        "python manage.py load_demo",
        "python manage.py collectstatic --noinput",
        "python manage.py ensure_admin",
    ]


def test_app_environment(compose):
    app_environment = {
        "DATABASE_URL": f"postgres://saga:{required('POSTGRES_PASSWORD')}@postgres:5432/saga",
        "REDIS_URL": "redis://redis:6379/0",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": required("DJANGO_SECRET_KEY"),
        "DJANGO_ALLOWED_HOSTS": "${DJANGO_ALLOWED_HOSTS:-localhost},127.0.0.1",
        "DJANGO_SECURE_PROXY_SSL_HEADER": "${DJANGO_SECURE_PROXY_SSL_HEADER:-}",
        "DJANGO_SECURE_SSL_REDIRECT": "${DJANGO_SECURE_SSL_REDIRECT:-1}",
        "DJANGO_SECURE_HSTS_SECONDS": "${DJANGO_SECURE_HSTS_SECONDS:-31536000}",
        "DJANGO_SESSION_COOKIE_SECURE": "${DJANGO_SESSION_COOKIE_SECURE:-1}",
        "DJANGO_CSRF_COOKIE_SECURE": "${DJANGO_CSRF_COOKIE_SECURE:-1}",
        "SAGA_DEADLINE_SECONDS": "${SAGA_DEADLINE_SECONDS:-10}",
        "SAGA_FAULT_PROFILE": "${SAGA_FAULT_PROFILE:-}",
        # the web listens on every interface of its container: the API is protected, SAGA_WDM_OPEN refused
        "WEB_BIND": "0.0.0.0",
    }
    for name in SERVICES - {"postgres", "redis", "migrate", "flower"}:
        service = compose["services"][name]
        assert service["build"] == ".", name
        assert service["environment"] == app_environment, name
    # the migrate service creates the first superuser (ensure_admin: this password, or a random one it prints)
    assert compose["services"]["migrate"]["environment"] == {
        **app_environment,
        "DJANGO_SUPERUSER_USERNAME": "${DJANGO_SUPERUSER_USERNAME:-admin}",
        "DJANGO_SUPERUSER_PASSWORD": "${DJANGO_SUPERUSER_PASSWORD:-}",
    }
    # only Flower gets its credentials, required from .env or the host's environment
    assert compose["services"]["flower"]["environment"] == {
        **app_environment,
        "FLOWER_BASIC_AUTH": required("FLOWER_BASIC_AUTH", "=user:password"),
    }
    assert compose["services"]["postgres"]["environment"] == {
        "POSTGRES_USER": "saga",
        "POSTGRES_PASSWORD": required("POSTGRES_PASSWORD"),
        "POSTGRES_DB": "saga",
    }


def required(variable: str, example: str = "") -> str:
    """Compose's interpolation that refuses to start while `variable` is unset or empty, saying where to set it."""
    return f"${{{variable}:?set {variable}{example} in .env (see .env.example)}}"


def test_debug_is_off_in_every_app_service(compose):
    for name in SERVICES - {"postgres", "redis"}:
        assert compose["services"][name]["environment"]["DJANGO_DEBUG"] == "0", name


def test_no_secret_is_written_in_the_file(compose):
    """Every secret is interpolated from .env or the environment: no literal password, key or login."""
    text = (ROOT / "docker-compose.yml").read_text()
    secret = re.compile(r"SECRET|PASSWORD|AUTH")
    for name, service in compose["services"].items():
        for variable, value in (service.get("environment") or {}).items():
            if secret.search(variable):
                assert re.fullmatch(r"\$\{[A-Z_]+:[?-][^}]*\}", value), (name, variable, value)
            if "://" in value:  # a URL's password, if any, is interpolated too
                credentials = value.split("://", 1)[1].split("@", 1)
                assert len(credentials) == 1 or ":" not in credentials[0] or "${" in credentials[0], (name, value)
    assert not {"admin:admin", "saga:saga", "insecure"} & set(re.findall(r"[\w.-]+:[\w.-]+|insecure", text))


def strings(node) -> Iterator[str]:
    """Every string value of the parsed file (its comments are not values)."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict | list):
        for child in node.values() if isinstance(node, dict) else node:
            yield from strings(child)


def test_env_example_names_every_required_variable_and_env_stays_private(compose):
    text = "\n".join(strings(compose))
    required_variables = set(re.findall(r"\$\{([A-Z_]+):\?", text))
    assert required_variables == {"DJANGO_SECRET_KEY", "POSTGRES_PASSWORD", "FLOWER_BASIC_AUTH"}
    example = (ROOT / ".env.example").read_text().splitlines()
    set_lines = {line.split("=", 1)[0] for line in example if re.match(r"^[A-Z_]+=", line)}
    shown = {line.lstrip("# ").split("=", 1)[0] for line in example if re.match(r"^#? ?[A-Z_]+=", line)}
    # every required variable is a line of its own, left empty: compose refuses to start until it is filled
    assert required_variables <= set_lines
    assert all(f"{name}=" in example for name in required_variables)
    # and every other variable the file reads is shown, set or commented out
    read = set(re.findall(r"\$\{([A-Z_]+)", text)) - {"SAGA_DEADLINE_SECONDS", "SAGA_FAULT_PROFILE"}
    assert read <= shown, read - shown
    assert ".env" in (ROOT / ".gitignore").read_text().split()
    assert ".env" in (ROOT / ".dockerignore").read_text().split()


def test_flower_needs_its_credentials_for_every_page_and_its_metrics(compose):
    flower = compose["services"]["flower"]
    assert "--conf=config/flowerconfig.py" in argv(flower["command"])
    assert (ROOT / "config" / "flowerconfig.py").is_file()
    assert flower["environment"]["FLOWER_BASIC_AUTH"].startswith("${FLOWER_BASIC_AUTH:?")


def test_dockerfile_runs_the_app_unprivileged():
    lines = [line.strip() for line in (ROOT / "Dockerfile").read_text().splitlines()]
    assert "FROM python:3.11-slim" in lines
    assert "RUN pip install -r requirements.txt" in lines
    assert "ENV DJANGO_SETTINGS_MODULE=config.settings.base PYTHONUNBUFFERED=1" in lines
    assert "EXPOSE 8088" in lines
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] not in {"root", "0"}
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".venv", ".run", ".git", "**/__pycache__", "staticfiles", "test-artifacts"} <= ignored


def test_the_web_logs_through_config_gunicorn_and_django_only(compose):
    """config.gunicorn makes gunicorn's own lines structured; the access lines come from config.access."""
    web = argv(compose["services"]["web"]["command"])
    assert option(web, "-c") == "python:config.gunicorn"
    assert not {"--access-logfile", "--access-log-format", "--log-config"} & set(web)
    cmd = next(line for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("CMD "))
    assert json.loads(cmd.removeprefix("CMD ")) == web


def test_the_web_healthcheck_probes_healthz(compose):
    probe = " ".join(compose["services"]["web"]["healthcheck"]["test"])
    assert "http://127.0.0.1:8088/healthz" in probe


def test_every_worker_has_a_healthcheck_pinging_its_own_node(compose):
    for service, queue in WORKERS.items():
        healthcheck = compose["services"][service]["healthcheck"]
        # $$ is Compose's escape: the container's shell sees $HOSTNAME, the %h of `-n <queue>@%h`
        assert healthcheck["test"] == ["CMD-SHELL", f"celery -A config inspect ping -d {queue}@$$HOSTNAME --timeout 10"]
        assert healthcheck | {"test": None} == {
            "test": None,
            "interval": "30s",
            "timeout": "20s",
            "retries": 3,
            "start_period": "30s",
        }, service


def test_every_worker_service_scales_to_replicas_with_a_node_name_each(compose):
    # given two replicas of each worker service, as `docker compose up --scale <service>=2` runs them:
    # Compose names their containers itself and gives each its own hostname (the container id)
    replicas = ["3f1c2a9b7d10", "8e0b6d4c2a91"]
    for service, queue in WORKERS.items():
        definition = compose["services"][service]
        # then nothing pins what must differ between replicas, or what two replicas cannot share
        assert not {"container_name", "hostname", "ports"} & set(definition), service
        assert "replicas" not in definition.get("deploy", {}), service
        # and each replica's node name is its own: %h is the hostname Celery finds in its container
        node = option(argv(definition["command"]), "-n")
        assert [host_format(node, host=host) for host in replicas] == [f"{queue}@{host}" for host in replicas]
        # and its healthcheck pings that node ($HOSTNAME is the same hostname, in the container's shell)
        probe = definition["healthcheck"]["test"][1].replace("$$", "$")
        assert [option(argv(probe.replace("$HOSTNAME", host)), "-d") for host in replicas] == [
            f"{queue}@{host}" for host in replicas
        ]


def _probe(script: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(["sh", "-c", script], env=_celery_env(**env), capture_output=True, text=True, timeout=60)


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_the_worker_healthcheck_passes_only_while_its_node_answers(compose, celery_worker):
    # given the orders worker's probe, as the container's shell runs it
    script = compose["services"]["orders"]["healthcheck"]["test"][1].replace("$$", "$")
    node, host = celery_worker.split("@")
    # when: this session's worker is the node (it is named test-<pid>@localhost, not orders@<host>)
    answered = _probe(script.replace("-d orders@", f"-d {node}@"), HOSTNAME=host)
    # and: no worker has the node name (the last --timeout wins: no need to wait 10 s)
    unanswered = _probe(f"{script} --timeout 1", HOSTNAME="no-such-host")
    # then
    assert answered.returncode == 0, answered.stdout + answered.stderr
    assert f"{celery_worker}: OK" in answered.stdout
    assert unanswered.returncode != 0
    assert "No nodes replied within time constraint" in unanswered.stdout + unanswered.stderr


INTERPOLATION = re.compile(r"\$\{([A-Z_]+):([?-])([^}]*)\}")


def interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's `${VAR:-default}` and `${VAR:?error}`, as `docker compose config` resolves them."""

    def resolve(match: re.Match) -> str:
        name, kind, rest = match.groups()
        if variables.get(name):
            return variables[name]
        if kind == "?":
            raise AssertionError(f"compose refuses to start: {rest}")
        return rest

    return INTERPOLATION.sub(resolve, value)


def test_the_web_with_env_example_filled_in_passes_check_deploy(compose):
    """The compose web's settings, from .env.example with its secrets filled in: nothing for check --deploy to warn."""
    from config.tests.test_deploy import manage, settings_env

    # given .env.example as a user fills it in
    lines = (ROOT / ".env.example").read_text().splitlines()
    dotenv = dict(line.split("=", 1) for line in lines if re.match(r"^[A-Z_]+=", line))
    secrets_filled = {name: "x" + secrets.token_hex(32) for name, value in dotenv.items() if not value}
    variables = {**dotenv, "FLOWER_BASIC_AUTH": f"ops:{secrets.token_hex(16)}", **secrets_filled}
    web = {name: interpolate(value, variables) for name, value in compose["services"]["web"]["environment"].items()}
    # when
    checked = manage("check", "--deploy", "--fail-level", "WARNING", env=settings_env(**web))
    # then
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "System check identified no issues" in checked.stdout
    # and its API is protected, where /wdm cannot be opened without credentials (README, Security)
    mode = manage(
        "shell", "-c", "from django.conf import settings; print(settings.SAGA_API_MODE)", env=settings_env(**web)
    )
    assert mode.stdout.splitlines()[-1] == "protected", mode.stdout + mode.stderr
    opened = manage("check", env=settings_env(**web, SAGA_WDM_OPEN="1"))
    assert opened.returncode != 0 and "callers.E003" in opened.stderr, opened.stdout + opened.stderr
    # and without a secret, compose itself refuses to start
    with pytest.raises(AssertionError, match=r"set DJANGO_SECRET_KEY in \.env"):
        interpolate(compose["services"]["web"]["environment"]["DJANGO_SECRET_KEY"], dotenv)
