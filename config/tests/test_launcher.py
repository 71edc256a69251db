"""make run's conveniences (issue 12): a .env file, and make stop for a stack started in the background."""

import os
import subprocess

from config import stack


def test_a_dotenv_file_fills_what_the_environment_leaves_unset(tmp_path, monkeypatch):
    # given
    monkeypatch.setenv("SAGA_DEADLINE_SECONDS", "7")
    monkeypatch.delenv("SAGA_FAULT_PROFILE", raising=False)
    monkeypatch.delenv("DJANGO_SECRET_KEY", raising=False)
    monkeypatch.delenv("FLOWER_BASIC_AUTH", raising=False)
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        "# a comment\n"
        "SAGA_DEADLINE_SECONDS=30\n"  # set in the environment: the environment wins
        "SAGA_FAULT_PROFILE=seed\n"
        "DJANGO_SECRET_KEY=\n"  # left blank, as .env.example's required lines: unset, not empty
        "FLOWER_BASIC_AUTH='ops:long secret'\n"
    )
    # when
    taken = stack.read_dotenv(dotenv)
    # then
    assert taken == ["SAGA_FAULT_PROFILE", "FLOWER_BASIC_AUTH"]
    assert os.environ["SAGA_DEADLINE_SECONDS"] == "7"
    assert os.environ["SAGA_FAULT_PROFILE"] == "seed"
    assert "DJANGO_SECRET_KEY" not in os.environ
    assert os.environ["FLOWER_BASIC_AUTH"] == "ops:long secret"
    assert stack.read_dotenv(tmp_path / "missing") == []


def test_make_stop_stops_the_stack_of_its_port_and_waits_for_it(tmp_path, monkeypatch):
    # given: a "stack" on port 18123 that ends when asked (SIGTERM), started as make start does (not
    # a child of the one who stops it), and its pid file
    monkeypatch.setattr(stack, "RUN_DIR", tmp_path)
    monkeypatch.setenv("WEB_PORT", "18123")
    started = subprocess.run(["sh", "-c", "sleep 120 >/dev/null 2>&1 & echo $!"], capture_output=True, text=True)
    pid = int(started.stdout)
    stack.stack_pid_file().write_text(str(pid))
    # when
    code = stack.stop(timeout=30)
    # then: it returned once the stack was gone
    assert code == 0
    assert not stack._alive(pid)
    # and with none running, it says so and succeeds
    stack.stack_pid_file().unlink()
    assert stack.stop() == 0
