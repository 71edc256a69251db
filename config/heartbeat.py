"""Run a command, and while it is silent for HEARTBEAT_SECONDS say it is still working: `make`'s install steps.

pip prints nothing while it unpacks the wheels it collected (half a minute on a fresh machine),
and creating the venv is silent too; a person watching `make run` should never wonder whether it
hung (issue 12: progress at least every 10 s). Standard library only, run by path with the system
Python before the venv exists:

    python3 config/heartbeat.py "Installing the dependencies" -- .venv/bin/python -m pip install ...

The command's output passes through as it comes; its exit status is this script's.
"""

import subprocess
import sys
import threading
import time

HEARTBEAT_SECONDS = 5


def run(what: str, argv: list[str]) -> int:
    started = time.monotonic()
    last_output = [started]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def relay() -> None:
        for line in iter(process.stdout.readline, b""):
            last_output[0] = time.monotonic()
            sys.stdout.buffer.write(line)
            sys.stdout.flush()

    relaying = threading.Thread(target=relay, daemon=True)
    relaying.start()
    while process.poll() is None:
        time.sleep(0.2)
        now = time.monotonic()
        if now - last_output[0] >= HEARTBEAT_SECONDS:
            print(f"[make] {what}: still working ({now - started:.0f} s)", flush=True)
            last_output[0] = now
    relaying.join()
    return process.returncode


if __name__ == "__main__":
    if len(sys.argv) < 4 or sys.argv[2] != "--":
        sys.exit('usage: heartbeat.py "what it does" -- command [arguments...]')
    try:
        sys.exit(run(sys.argv[1], sys.argv[3:]))
    except KeyboardInterrupt:  # Ctrl-C reached the command too (same terminal): no traceback, make stops
        sys.exit(130)
