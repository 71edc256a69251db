"""README's "Seed 000, step by step", run as written on one real stack, every comment checked (issue 12).

The section's two code blocks are read out of README.md, so editing the README changes the test:

* The first starts the stack. `rm -rf .run` (a fresh database) is done here as a database of its own,
  created empty in the session's PostgreSQL, and a Redis database of its own (the session's `.run`
  stays: its servers serve this very test); the other line (`SAGA_FAULT_PROFILE=seed make run`) runs
  in a shell as written, with free ports for the web and Flower, and waits, as the README says,
  until `/readyz` answers 200.
* The second is the walkthrough. Each line that is not blank or a comment runs in a shell (bash: the
  README's `$(hostname)`), as written but for `:8088`, which points at this stack's port; with the
  venv's bin on the PATH, as `. .venv/bin/activate` puts it, and with something to read on its
  stdin, as in a script (a command that read it, as httpie does without `-I`, would misbehave).
  Every command must exit 0.

The convention of the comments (a line's text after ` #`):

* each `"name": value` (a JSON member: a string in double quotes, a number, true, false or null)
  and each `` `text` `` in backticks is a claim: the command's output must contain it, whitespace
  aside (httpie indents JSON in a terminal, not in a pipe), not followed by a letter or digit
  (`"point": 9500` is not `"point": 95000`);
* every command but `sleep` has at least one claim, and the rest of its comment (prose) holds
  no digit and no status (APPROVED, REJECTED, PENDING): a number or a status there would be a
  claim that nothing checks;
* `sleep N` prints nothing (checked); its comment says why it waits, freely.

No sleep here beyond the README's own: the waits are its `Prefer: wait` and its `sleep` lines.
"""

import os
import re
import shlex
import signal
import subprocess
import time
from pathlib import Path

import psycopg
import pytest
import redis
import requests
from django.conf import settings

from config import stack
from conftest import _database_url_for, free_port, wait_for

pytestmark = pytest.mark.e2e

README = stack.BASE_DIR / "README.md"
SECTION = "## Seed 000, step by step"
REDIS_DB = 9  # the session's tests use 1, a `make run` 0
CLAIM = re.compile(r'"[A-Za-z_]+": (?:"[^"]*"|-?[0-9]+|true|false|null)|`[^`]+`')
STATUS_WORDS = re.compile(r"[0-9]|APPROVED|REJECTED|PENDING")


def walkthrough_blocks(readme: str) -> list[list[str]]:
    """The code blocks of the README's section, each as its lines."""
    section = readme.split(SECTION, 1)[1].split("\n## ", 1)[0]
    return [block.strip("\n").splitlines() for block in re.findall(r"^```\n(.*?)^```$", section, re.M | re.S)]


def command_and_claims(line: str) -> tuple[str, list[str], str]:
    """A walkthrough line: its command, the claims of its comment, and the comment's prose (the rest)."""
    command, _, comment = line.partition(" #")
    claims = CLAIM.findall(comment)
    return command.strip(), claims, CLAIM.sub("", comment)


def found(claim: str, output: str) -> bool:
    text = claim[1:-1] if claim.startswith("`") else claim
    pattern = r"\s*".join(re.escape(part) for part in text.split())
    return re.search(pattern + r"(?![A-Za-z0-9])", output) is not None


def test_the_convention_reads_claims_and_prose():
    command, claims, prose = command_and_claims(
        'http -I :8088/x   # when it ends: "id": 3, "statusText": "REJECTED DUE TO DEADLINE", `consuming from \'x\'`'
    )
    assert command == "http -I :8088/x"
    assert claims == ['"id": 3', '"statusText": "REJECTED DUE TO DEADLINE"', "`consuming from 'x'`"]
    assert not STATUS_WORDS.search(prose)
    assert found('"point": 9500', '{"userId":"jjy","point":9500}')
    assert not found('"point": 9500', '{"point":95000}')
    assert found('"statusText": "REJECTED DUE TO DEADLINE"', '{\n    "statusText": "REJECTED DUE TO DEADLINE"\n}')


@pytest.fixture
def fresh_database():
    """`rm -rf .run`'s fresh database: an empty one of its own in the session's PostgreSQL (ids from 1)."""
    name = f"walkthrough_{os.getpid()}"
    admin_url = _database_url_for("postgres")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _database_url_for(name)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def fresh_redis() -> str:
    """... and a Redis database of its own, empty: no queue, lock or budget of another stack."""
    url = re.sub(r"/[0-9]+$", f"/{REDIS_DB}", settings.REDIS_URL)
    redis.Redis.from_url(url).flushdb()
    return url


def test_the_walkthrough_runs_as_written_and_prints_what_its_comments_say(fresh_database, fresh_redis, tmp_path):
    start, walkthrough = walkthrough_blocks(README.read_text())
    # given: the stack started as the first block says, on a fresh database and ports of its own
    assert start[0] == "rm -rf .run", start  # done by the fixtures: a fresh database and Redis database
    assert len(start) == 2 and shlex.split(start[1])[-2:] == ["make", "run"], start
    web_port, flower_port = free_port(), free_port()
    env = {
        **{name: value for name, value in os.environ.items() if not name.startswith(("DJANGO_", "SAGA_", "CELERY_"))},
        "DATABASE_URL": fresh_database,
        "REDIS_URL": fresh_redis,
        # what `make run` on its embedded servers is: DEBUG on, the open API on the loopback (config/modes.py)
        "DJANGO_DEBUG": "1",
        "SAGA_API_MODE": "local",
        "PATH": f"{stack.VENV_BIN}{os.pathsep}{os.environ['PATH']}",
    }
    log_path = tmp_path / "stack.log"
    started = time.monotonic()
    with open(log_path, "w") as log:
        launcher = subprocess.Popen(
            ["bash", "-c", start[1]],
            cwd=stack.BASE_DIR,
            env={**env, "WEB_PORT": str(web_port), "FLOWER_PORT": str(flower_port)},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for(
            lambda: _ready(web_port) or launcher.poll() is not None,
            timeout=240,
            interval=0.5,
            what=f"/readyz to answer 200 (the stack's log: {log_path})",
        )
        assert launcher.poll() is None, log_path.read_text()[-5000:]
        print(f"\nstack ready in {time.monotonic() - started:.1f} s")
        # when / then: every line, as written, prints what its comment says
        for line in walkthrough:
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            _run_and_check(line, web_port, env)
        print(f"walkthrough done in {time.monotonic() - started:.1f} s")
    finally:
        _stop(launcher, web_port, env)


def _ready(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def _run_and_check(line: str, port: int, env: dict) -> None:
    command, claims, prose = command_and_claims(line)
    began = time.monotonic()
    ran = subprocess.run(
        ["bash", "-c", command.replace(":8088", f":{port}")],
        cwd=stack.BASE_DIR,
        env=env,
        input="GET /this-is-not-a-request-body\n",  # a script's stdin: whatever follows in it
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = ran.stdout + ran.stderr
    said = f"`{line}` printed, in {time.monotonic() - began:.1f} s:\n{output}"
    assert ran.returncode == 0, said
    if shlex.split(command)[0] == "sleep":
        assert claims == [] and output == "", said
        return
    assert claims, f"`{line}`: its comment states nothing that its output could show"
    assert not STATUS_WORDS.search(prose), f"`{line}`: a number or status outside a claim: {prose!r}"
    missing = [claim for claim in claims if not found(claim, output)]
    assert not missing, f"{said}\nmissing: {missing}"


def _stop(launcher: subprocess.Popen, port: int, env: dict) -> None:
    """`make stop` for this port, as the README says; then make's process is gone too."""
    subprocess.run(["make", "stop"], cwd=stack.BASE_DIR, env={**env, "WEB_PORT": str(port)}, timeout=90)
    try:
        launcher.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(launcher.pid, signal.SIGKILL)
        launcher.wait()
    Path(stack.RUN_DIR / f"stack-{port}.pid").unlink(missing_ok=True)
