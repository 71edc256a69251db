"""`make run` listens on the loopback only, unless WEB_BIND / FLOWER_BIND say otherwise (issue 10, ADR 0012)."""

import os
import subprocess

import pytest
from honcho.environ import parse_procfile

from config import stack

PROCFILE = parse_procfile((stack.BASE_DIR / "Procfile").read_text()).processes


def argv_as_the_shell_runs_it(command: str, **env: str) -> list[str]:
    """The Procfile line's words after the shell expanded it, as honcho's shell would."""
    environ = {key: value for key, value in os.environ.items() if not key.endswith(("_BIND", "_PORT"))}
    words = subprocess.run(
        ["sh", "-c", f'set -- {command}; printf "%s\\n" "$@"'],
        env={**environ, **env},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return words.splitlines()


@pytest.mark.parametrize(
    ("process", "option", "default", "told"),
    [
        ("web", "--bind", "127.0.0.1:8088", "0.0.0.0:8088"),
        ("flower", "--address", "127.0.0.1", "0.0.0.0"),
    ],
)
def test_web_and_flower_listen_on_the_loopback_unless_told_otherwise(process, option, default, told):
    # given
    variable = f"{process.upper()}_BIND"

    def value(words: list[str]) -> str:
        joined = [word.split("=", 1) for word in words if word.startswith(f"{option}=")]
        return joined[0][1] if joined else words[words.index(option) + 1]

    # when / then
    assert value(argv_as_the_shell_runs_it(PROCFILE[process])) == default
    assert value(argv_as_the_shell_runs_it(PROCFILE[process], **{variable: "0.0.0.0"})) == told
