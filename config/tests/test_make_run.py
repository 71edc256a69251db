"""`make run` as a person runs it, in a terminal: it says what it is doing, and Ctrl-C ends it quietly (issue 12)."""

import os
import pty
import re
import select
import subprocess
import sys
import time

import pytest
import requests
from django.db import connection

from config import heartbeat, stack
from conftest import _database_url_for, free_port


def run_in_a_terminal(
    argv: list[str], env: dict, *, until: bytes, then: bytes, timeout: float = 240
) -> tuple[int, str]:
    """Run `argv` on a pseudo-terminal; once its output shows `until`, type `then`; its exit code and output."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: make, in the terminal's foreground, as from a shell
        os.chdir(stack.BASE_DIR)
        os.execvpe(argv[0], argv, env)
    output, typed, deadline = b"", False, time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:  # the terminal closed: every process on it is gone
                    break
                if not chunk:
                    break
                output += chunk
            if not typed and until(output):
                os.write(fd, then)
                typed = True
        else:
            os.kill(pid, 9)
            pytest.fail(f"still running after {timeout} s:\n{output.decode(errors='replace')[-5000:]}")
    finally:
        os.close(fd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), output.decode(errors="replace")


@pytest.mark.e2e
def test_make_run_says_what_it_does_and_ctrl_c_ends_it_with_status_0(transactional_db):
    # given: make run on this session's database and Redis, on ports of its own
    env = {
        **{name: value for name, value in os.environ.items() if not name.startswith(("DJANGO_", "SAGA_"))},
        "DATABASE_URL": _database_url_for(connection.settings_dict["NAME"]),
        "WEB_PORT": str(free_port()),
        "FLOWER_PORT": str(free_port()),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
    }

    def up(output: bytes) -> bool:
        if b"stops everything." not in output:
            return False
        try:
            return requests.get(f"http://127.0.0.1:{env['WEB_PORT']}/healthz", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    # when: it is up (its web answers), Ctrl-C is typed
    code, output = run_in_a_terminal(["make", "run"], env, until=up, then=b"\x03")
    # then: each start-up phase said when it began and how long it took, and the end is quiet
    assert re.search(r"Migrating the database: done in [0-9.]+ s", output), output[-5000:]
    assert "[stack] Stopped." in output, output[-5000:]
    assert "make: ***" not in output, output[-5000:]  # make's "*** [run] Interrupt" / "Error 130"
    assert code == 0, output[-5000:]
    # and its processes are gone, with its pid file
    assert not (stack.RUN_DIR / f"stack-{env['WEB_PORT']}.pid").exists()
    web = subprocess.run(["pgrep", "-f", f"127.0.0.1:{env['WEB_PORT']}"], capture_output=True, text=True)
    assert web.stdout == "", web.stdout


def test_a_silent_install_step_says_it_is_still_working_and_keeps_its_exit_status(capfd, monkeypatch):
    # given a step that prints a line, then nothing for 1.5 s, then fails, with a heartbeat every 0.5 s
    monkeypatch.setattr(heartbeat, "HEARTBEAT_SECONDS", 0.5)
    step = "import sys, time; print('unpacking', flush=True); time.sleep(1.5); sys.exit(3)"
    # when
    status = heartbeat.run("Installing the dependencies", [sys.executable, "-c", step])
    # then its own output passes through, the silence is filled, and make sees its failure
    out = capfd.readouterr().out
    assert status == 3
    assert out.startswith("unpacking\n")
    assert "[make] Installing the dependencies: still working (" in out
