"""Run a command and start it again if it dies on its own: `make run`'s restart policy.

    python -m config.supervise celery -A config worker -Q exchanges ...

honcho stops the whole stack when one process exits; a Celery worker can exit on a
broker connection lost at the wrong moment (a kombu reconnect bug), which must not take
the stack down. docker-compose gets the same from `restart: unless-stopped`.
SIGTERM / SIGINT are passed on and end the loop.
"""

import signal
import subprocess
import sys
import time


def main() -> int:
    command = sys.argv[1:]
    child: subprocess.Popen | None = None
    stopping = False

    def stop(signum, frame) -> None:
        nonlocal stopping
        stopping = True
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    backoff = 1.0
    while True:
        started = time.monotonic()
        # Its own session: a command that kills its process group on the way down (Celery's
        # pool teardown after an unrecoverable error) must not take its supervisor with it.
        child = subprocess.Popen(command, start_new_session=True)
        returncode = child.wait()
        if stopping:
            return 128 - returncode if returncode < 0 else returncode  # a shell's code for "killed by signal"
        print(f"[supervise] {' '.join(command[:5])} ... exited ({returncode}); again in {backoff:.0f} s", flush=True)
        time.sleep(backoff)
        backoff = 1.0 if time.monotonic() - started > 60 else min(backoff * 2, 30.0)


if __name__ == "__main__":
    sys.exit(main())
