"""CPU seconds spent by each kind of process of a running stack, for the benchmarks (psutil).

Kinds: web (gunicorn), one per worker queue (orders, exchanges, points, checkout), beat,
flower, postgres, redis, launcher (make run's honcho), and the benchmark's own client.
A snapshot before and after a run, divided by the sagas it finished, gives the CPU
milliseconds per saga of every process kind.

With `make run` in this checkout, only its own processes count (the descendants of its
launcher), PostgreSQL only for this database's backends and the server's own processes,
so that a `make test` or another checkout on the same machine is not counted. Without
one (docker-compose, a stack of your own), every matching process on the machine counts.
"""

import contextlib
import json
import os
import re
from collections import Counter
from pathlib import Path

import psutil

BASE_DIR = Path(__file__).resolve().parent.parent
KINDS = ("web", "orders", "exchanges", "points", "checkout", "beat", "flower", "postgres", "redis", "launcher")


def _embedded_pids() -> dict[int, str]:
    """The embedded servers' main processes (their children are found by ancestry)."""
    pids = {}
    with contextlib.suppress(OSError, ValueError, IndexError):
        pids[int((BASE_DIR / ".run" / "pg" / "postmaster.pid").read_text().split()[0])] = "postgres"
    with contextlib.suppress(OSError, ValueError, KeyError):
        pids[int(json.loads((BASE_DIR / ".run" / "redis" / "state.json").read_text())["pid"])] = "redis"
    return pids


def _kind(process: psutil.Process, embedded: dict[int, str]) -> str | None:
    try:
        if process.pid in embedded:
            return embedded[process.pid]
        name = process.name()
        cmdline = " ".join(process.cmdline())
        parent = process.ppid()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return None
    if parent in embedded:
        return embedded[parent]
    if "postgres" in name and not any(kind == "postgres" for kind in embedded.values()):
        return "postgres"
    if "redis-server" in name and not any(kind == "redis" for kind in embedded.values()):
        return "redis"
    if "gunicorn" in cmdline:
        return "web"
    if "config.stack" in cmdline:
        return "launcher"
    if "celery" in cmdline:
        if " flower" in cmdline:
            return "flower"
        if " beat" in cmdline:
            return "beat"
        queue = re.search(r"-Q\s+(\S+)", cmdline)
        if queue:
            return queue.group(1).split(",")[0]
    return None


def _launched_here(base_dir: Path = BASE_DIR) -> set[int] | None:
    """The processes of this checkout's `make run` (its launcher and descendants), or None if it has none.

    honcho forks a child per process that shows the launcher's command line too: the
    launcher is the match whose parent is not a match.
    """
    launchers = {}
    for process in psutil.process_iter():
        try:
            cmdline = process.cmdline()
            if "config.stack" in cmdline and "run" in cmdline and Path(process.cwd()) == base_dir:
                launchers[process.pid] = process
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    for pid, process in launchers.items():
        try:
            if process.ppid() not in launchers:
                return {pid} | {child.pid for child in process.children(recursive=True)}
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return None


def _other_databases_backends() -> set[int]:
    """PostgreSQL backends serving another database than ours (a test run's, say)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname IS NOT NULL AND datname <> current_database()")
        return {pid for (pid,) in cursor.fetchall()}


def cpu_snapshot() -> dict[int, tuple[str, float]]:
    """CPU seconds (user + system) so far of every stack process, by pid with its kind; `client` is this process."""
    embedded = _embedded_pids()
    ours, not_ours = _launched_here(), _other_databases_backends()
    snapshot = {}
    me = os.getpid()
    for process in psutil.process_iter():
        kind = "client" if process.pid == me else _kind(process, embedded)
        if kind is None or process.pid in not_ours:
            continue
        if ours is not None and kind not in ("postgres", "redis", "client") and process.pid not in ours:
            continue
        try:
            times = process.cpu_times()
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
        snapshot[process.pid] = (kind, times.user + times.system)
    return snapshot


def cpu_per_saga(before: dict, after: dict, sagas: int) -> dict[str, float]:
    """Milliseconds of CPU per saga, by kind, between two snapshots; `stack` sums every kind but the client.

    A process present in both counts what it spent in between; one that started in between
    counts all it spent; one that ended in between loses its last moments (runs are long).
    """
    spent: Counter = Counter()
    for pid, (kind, seconds) in after.items():
        earlier = before.get(pid)
        spent[kind] += seconds - (earlier[1] if earlier and earlier[0] == kind else 0.0)
    per_saga = {kind: spent[kind] * 1000 / max(1, sagas) for kind in (*KINDS, "client")}
    per_saga["stack"] = sum(value for kind, value in per_saga.items() if kind != "client")
    return per_saga


def cpu_table(rows: list[tuple[str, dict[str, float]]]) -> str:
    """One line per run: CPU ms per saga by kind, then the stack's total."""
    kinds = [kind for kind in (*KINDS, "stack", "client") if any(row.get(kind, 0) >= 0.05 for _, row in rows)]
    width = max(len(label) for label, _ in rows)
    lines = [f"{'CPU ms per saga':<{width}}  " + " ".join(f"{kind:>9}" for kind in kinds)]
    for label, row in rows:
        lines.append(f"{label:<{width}}  " + " ".join(f"{row.get(kind, 0):9.1f}" for kind in kinds))
    return "\n".join(lines)
