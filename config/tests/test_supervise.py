"""config.supervise starts a command again when it dies, and stops with it when asked to."""

import signal
import subprocess
import sys
import time


def test_a_command_that_dies_is_started_again_and_a_sigterm_stops_both(tmp_path):
    # given a command that counts its starts and dies at once the first two times
    counter = tmp_path / "starts"
    script = (
        "import pathlib, sys, time\n"
        f"p = pathlib.Path({str(counter)!r})\n"
        "n = int(p.read_text()) + 1 if p.exists() else 1\n"
        "p.write_text(str(n))\n"
        "sys.exit(3) if n < 3 else time.sleep(60)\n"
    )
    supervisor = subprocess.Popen([sys.executable, "-m", "config.supervise", sys.executable, "-c", script])
    try:
        # when it has died twice (restarts after 1 s, then 2 s)
        deadline = time.monotonic() + 60
        while not (counter.exists() and counter.read_text() == "3") and time.monotonic() < deadline:
            time.sleep(0.1)
        # then it was started a third time, and is still running
        assert counter.read_text() == "3"
        assert supervisor.poll() is None
        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(timeout=10) == 128 + signal.SIGTERM  # passed on to the command, which ended
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
