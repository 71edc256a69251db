"""`SAGA_WORKERS=N make run`: N instances of each worker line of the Procfile, each with a node name of its own."""

import re
import shlex

import pytest
from honcho.environ import parse_procfile

from config import stack

PROCFILE = parse_procfile((stack.BASE_DIR / "Procfile").read_text()).processes
QUEUES = ["orders", "exchanges", "points", "checkout"]


def node(command: str) -> str:
    args = shlex.split(command)
    assert args.count("-n") == 1, command
    return args[args.index("-n") + 1]


def without_node(command: str) -> list[str]:
    args = shlex.split(command)
    index = args.index("-n")
    return args[:index] + args[index + 2 :]


def test_one_instance_each_is_the_procfile_as_it_is():
    # when
    processes = stack.stack_processes(PROCFILE, workers=1)
    # then
    assert processes == list(PROCFILE.items())
    assert [name for name, _ in processes] == ["web", *QUEUES, "beat", "flower"]
    assert {name: node(command) for name, command in processes if name in QUEUES} == {
        "orders": "orders@%h",
        "exchanges": "exchanges@%h",
        "points": "points@%h",
        "checkout": "checkout@%h",
    }


def test_two_instances_of_each_worker_with_distinct_node_names_and_web_beat_flower_once():
    # when
    processes = stack.stack_processes(PROCFILE, workers=2)
    # then
    assert [name for name, _ in processes] == [
        "web",
        "orders",
        "orders-2",
        "exchanges",
        "exchanges-2",
        "points",
        "points-2",
        "checkout",
        "checkout-2",
        "beat",
        "flower",
    ]
    commands = dict(processes)
    assert {name: node(command) for name, command in processes if "-n" in shlex.split(command)} == {
        "orders": "orders@%h",
        "orders-2": "orders-2@%h",
        "exchanges": "exchanges@%h",
        "exchanges-2": "exchanges-2@%h",
        "points": "points@%h",
        "points-2": "points-2@%h",
        "checkout": "checkout@%h",
        "checkout-2": "checkout-2@%h",
    }
    for queue in QUEUES:
        # the second instance is the Procfile's line (queue, concurrency, supervisor) but for its node name
        assert commands[queue] == PROCFILE[queue]
        assert without_node(commands[f"{queue}-2"]) == without_node(PROCFILE[queue])
    for name in ("web", "beat", "flower"):
        assert commands[name] == PROCFILE[name]


def test_a_worker_line_without_its_node_name_is_refused():
    # given a worker line that names its node otherwise than `<line>@%h`
    procfile = {"exchanges": "celery -A config worker -Q exchanges -n worker1@%h"}
    # when / then
    with pytest.raises(SystemExit, match="Procfile line 'exchanges': a worker line names its node once"):
        stack.stack_processes(procfile, workers=2)


@pytest.mark.parametrize(("value", "instances"), [(None, 1), ("", 1), ("1", 1), ("2", 2), ("4", 4)])
def test_saga_workers_defaults_to_one(monkeypatch, value, instances):
    # given
    if value is None:
        monkeypatch.delenv("SAGA_WORKERS", raising=False)
    else:
        monkeypatch.setenv("SAGA_WORKERS", value)
    # when / then
    assert stack.worker_instances() == instances


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5"])
def test_saga_workers_must_be_a_positive_number(monkeypatch, value):
    # given
    monkeypatch.setenv("SAGA_WORKERS", value)
    # when / then
    with pytest.raises(SystemExit, match=re.escape(f"SAGA_WORKERS={value!r}: give the number of instances")):
        stack.worker_instances()


@pytest.mark.parametrize(
    ("workers", "banner"),
    [
        (1, "<queue>@<host>"),
        (2, "<queue>@<host>, <queue>-2@<host>"),
        (5, "<queue>@<host>, <queue>-2@<host> .. <queue>-5@<host>"),
    ],
)
def test_the_banner_names_the_instances(workers, banner):
    assert stack._node_names(workers) == banner
