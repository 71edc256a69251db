"""make test's Chromium for the browser tests: used when present, installed with apt-get when missing,
otherwise a refusal that says what to do. apt-get, sudo and chromium are stand-in scripts here."""

import os
import re
from pathlib import Path

import pytest

from config import stack

HOW_TO = (
    "Install it with `sudo apt-get install chromium` (Debian, Ubuntu), or point SAGA_CHROMIUM at "
    "a Chromium or Chrome executable and run make test again."
)


def script(path: Path, body: str) -> Path:
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def machine(tmp_path, monkeypatch) -> Path:
    """No Chromium, SAGA_CHROMIUM unset, root, and a PATH of one empty folder (returned) for stand-ins."""
    monkeypatch.setattr(stack, "DEBIAN_CHROMIUM", str(tmp_path / "chromium"))
    monkeypatch.setattr(stack, "RUN_DIR", tmp_path / "run")
    monkeypatch.delenv("SAGA_CHROMIUM", raising=False)
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    return bin_dir


@pytest.fixture
def apt_get(machine, tmp_path) -> Path:
    """An apt-get that logs its arguments to `calls` and, asked to install, puts a chromium in place."""
    chromium = script(tmp_path / "packaged-chromium", "echo 'Chromium 156.0.8078.79 built on Debian'")
    script(
        machine / "apt-get",
        f'echo "$@" >> {tmp_path}/calls\n'
        f'if [ "$1" = install ]; then /bin/cp {chromium} {stack.DEBIAN_CHROMIUM}; fi\n'
        "echo 'Reading package lists...'",
    )
    return tmp_path / "calls"


def test_a_missing_chromium_is_installed_with_apt_get(apt_get, capsys):
    # when
    path = stack.ensure_chromium()
    # then
    assert path == stack.DEBIAN_CHROMIUM
    assert apt_get.read_text() == "update -q\ninstall -y -q --no-install-recommends chromium\n"
    lines = capsys.readouterr().out.splitlines()
    log = stack.RUN_DIR / "apt-chromium.log"
    assert lines[:3] == [
        f"[stack] installing Debian's chromium for the browser tests ... (apt-get output in {log})",
        "[stack]   apt-get update ...",
        "[stack]   apt-get install chromium ...",
    ]
    assert re.fullmatch(r"\[stack\] installed Debian's chromium in \d+ s", lines[3])
    assert lines[4:] == [f"[stack] browser tests use Chromium 156.0.8078.79 built on Debian ({path})"]
    assert log.read_text().count("Reading package lists...") == 2


def test_a_present_chromium_is_used_as_it_is(apt_get, capsys):
    # given
    script(Path(stack.DEBIAN_CHROMIUM), "echo 'Chromium 150.0 built on Debian'")
    # when
    path = stack.ensure_chromium()
    # then
    assert path == stack.DEBIAN_CHROMIUM
    assert not apt_get.exists()
    assert capsys.readouterr().out == f"[stack] browser tests use Chromium 150.0 built on Debian ({path})\n"


def test_saga_chromium_is_used_instead(apt_get, tmp_path, monkeypatch):
    # given
    chrome = script(tmp_path / "chrome", "echo 'Google Chrome 156.0'")
    monkeypatch.setenv("SAGA_CHROMIUM", str(chrome))
    # when
    path = stack.ensure_chromium()
    # then
    assert path == str(chrome)
    assert not apt_get.exists()


def test_a_missing_saga_chromium_is_refused_not_replaced_by_an_install(apt_get, tmp_path, monkeypatch):
    # given
    monkeypatch.setenv("SAGA_CHROMIUM", str(tmp_path / "nowhere"))
    # when
    with pytest.raises(stack.ChromiumMissing) as refused:
        stack.ensure_chromium()
    # then
    assert str(refused.value) == f"SAGA_CHROMIUM={tmp_path / 'nowhere'} is not an executable file"
    assert not apt_get.exists()


def test_without_apt_get_it_says_how_to_install_chromium(machine):
    # when
    with pytest.raises(stack.ChromiumMissing) as refused:
        stack.ensure_chromium()
    # then
    assert str(refused.value) == (
        f"the browser tests need Chromium, {stack.DEBIAN_CHROMIUM} is missing and there is no apt-get. {HOW_TO}"
    )


def test_without_root_or_sudo_it_says_how_to_install_chromium(apt_get, monkeypatch):
    # given
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    # when
    with pytest.raises(stack.ChromiumMissing) as refused:
        stack.ensure_chromium()
    # then
    assert str(refused.value) == (
        f"the browser tests need Chromium; installing it needs root and there is no sudo. {HOW_TO}"
    )
    assert not apt_get.exists()


def test_without_root_apt_get_runs_under_sudo_without_a_prompt(apt_get, machine, tmp_path, monkeypatch):
    # given: a sudo that logs its arguments and runs the command
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setattr(stack.sys.stdin, "isatty", lambda: False)  # as under CI, whatever runs pytest
    script(machine / "sudo", f'echo "sudo $1" >> {tmp_path}/sudo-calls\nshift\nexec "$@"')
    # when
    stack.ensure_chromium()
    # then: -n, since the tests' standard input is no terminal to type a password at
    assert (tmp_path / "sudo-calls").read_text() == "sudo -n\nsudo -n\n"
    assert apt_get.read_text() == "update -q\ninstall -y -q --no-install-recommends chromium\n"


def test_a_failed_install_shows_apt_gets_last_words(machine):
    # given
    script(machine / "apt-get", "echo 'E: Unable to locate package chromium'\nexit 100")
    # when
    with pytest.raises(stack.ChromiumMissing) as refused:
        stack.ensure_chromium()
    # then
    assert str(refused.value) == (
        f"`apt-get update` failed:\n$ {machine / 'apt-get'} update -q\nE: Unable to locate package chromium\n\n{HOW_TO}"
    )
