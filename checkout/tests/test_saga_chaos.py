"""saga_chaos kills only the workers of this checkout's `make run`: every instance of a queue, nothing else."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator

import psutil
import pytest

from checkout.management.commands.saga_chaos import _worker_children
from checkout.stackcpu import BASE_DIR
from conftest import wait_for

# One script plays every part of a process tree, with the command lines of the real ones:
#   launcher: `... config.stack run` (in the checkout's directory) starting two supervised workers;
#   worker:   `... celery -A config worker -Q exchanges -n <node>`, forking two pool processes that,
#             as a prefork pool's, carry their worker's command line.
TREE = """
import os, subprocess, sys, time

if sys.argv[1] == "launcher":
    for node in ("exchanges@%h", "exchanges-2@%h"):
        worker = [sys.executable, __file__, "worker", "celery", "-A", "config", "worker", "-Q", "exchanges", "-n", node]
        subprocess.Popen([sys.executable, "-m", "config.supervise", *worker])
else:
    for _ in range(2):
        if os.fork() == 0:
            time.sleep(120)
            os._exit(0)
time.sleep(120)
"""
WORKER_ARGS = ["celery", "-A", "config", "worker", "-Q", "exchanges"]


@pytest.fixture
def started() -> Iterator[list[subprocess.Popen]]:
    """The process trees a test starts; each of their processes is SIGKILLed afterwards, by pid."""
    roots: list[subprocess.Popen] = []
    yield roots
    for root in roots:
        try:
            tree = [psutil.Process(root.pid), *psutil.Process(root.pid).children(recursive=True)]
        except psutil.NoSuchProcess:
            tree = []
        for process in tree:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.send_signal(signal.SIGKILL)
        root.wait()


def children(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def test_only_the_pool_processes_of_this_checkouts_workers_are_victims(tmp_path, started):
    # given this checkout's launcher (found by its directory) with two workers of the exchanges queue
    checkout, elsewhere = tmp_path / "checkout", tmp_path / "elsewhere"
    checkout.mkdir(), elsewhere.mkdir()
    script = tmp_path / "tree.py"
    script.write_text(TREE)
    env = {**os.environ, "PYTHONPATH": str(BASE_DIR)}  # for `-m config.supervise`
    launcher = subprocess.Popen([sys.executable, script, "launcher", "config.stack", "run"], cwd=checkout, env=env)
    started.append(launcher)
    # and another checkout's launcher and a test run's worker of the same queue, on the same machine
    other_launcher = subprocess.Popen(
        [sys.executable, script, "launcher", "config.stack", "run"], cwd=elsewhere, env=env
    )
    started.append(other_launcher)
    test_worker = subprocess.Popen([sys.executable, script, "worker", *WORKER_ARGS, "-n", "test-1@localhost"], env=env)
    started.append(test_worker)
    # (each launcher: 2 supervisors, 2 workers, 4 pool processes; the test worker: 2 pool processes)
    wait_for(
        lambda: [len(children(p.pid)) for p in started] == [8, 8, 2],
        timeout=30,
        what="the three process trees to be complete",
    )
    host = socket.gethostname()
    workers = [worker for supervisor in psutil.Process(launcher.pid).children() for worker in supervisor.children()]
    pools = sorted((node(worker).replace("%h", host), pool.pid) for worker in workers for pool in worker.children())
    # when
    victims = _worker_children(checkout.resolve())
    # then the pool processes of both instances, named by their worker's node, and nothing else
    assert sorted((node, victim.pid) for node, victim in victims) == pools
    assert sorted(node for node, _ in victims) == [f"exchanges-2@{host}"] * 2 + [f"exchanges@{host}"] * 2
    theirs = {p.pid for p in children(other_launcher.pid) + children(test_worker.pid)}
    assert theirs.isdisjoint(victim.pid for _, victim in victims)


def node(worker: psutil.Process) -> str:
    args = worker.cmdline()
    return args[args.index("-n") + 1]


def test_without_a_launcher_in_the_checkout_there_is_no_victim(tmp_path):
    # given no `make run` in this directory (other stacks and test workers may run elsewhere)
    # when / then
    assert _worker_children(tmp_path.resolve()) == []
